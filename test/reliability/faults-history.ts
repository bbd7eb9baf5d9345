import type { Client } from "@connectrpc/connect";
import { MessageState, type Message } from "@jarvis/proto/jarvis/session/v1/resources";
import type { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { eventually } from "../helpers/cli.js";

type Session = Client<typeof SessionService>;

/**
 * ListMessages returns at most 1,000 a page, and without a cursor the newest: walk the
 * conversation backwards by position and return it oldest first.
 */
export async function wholeConversation(client: Session, conversation: string): Promise<Message[]> {
  const pages: Message[][] = [];
  let before = 0n;
  for (;;) {
    const page = await client.listMessages({ conversation, before, limit: 1000 });
    pages.unshift(page.messages);
    const first = page.messages[0];
    if (!page.hasMore || !first) return pages.flat();
    before = first.position;
  }
}

/** What a finished exchange must show on one side, as lists the test can compare whole. */
export interface SideView {
  outgoing: Message[];
  incoming: Message[];
}

export function split(messages: Message[]): SideView {
  return { outgoing: messages.filter((m) => m.outgoing), incoming: messages.filter((m) => !m.outgoing) };
}

/** Counts the texts of `expected` that are missing from `actual` and those present more than once. */
export function lostAndDuplicated(expected: readonly string[], actual: readonly string[]): { lost: number; duplicated: number } {
  const seen = new Map<string, number>();
  for (const text of actual) seen.set(text, (seen.get(text) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  for (const text of expected) {
    const count = seen.get(text) ?? 0;
    if (count === 0) lost++;
    if (count > 1) duplicated += count - 1;
  }
  return { lost, duplicated };
}

const RANK: Partial<Record<MessageState, number>> = {
  [MessageState.QUEUED]: 1,
  [MessageState.SENT]: 2,
  [MessageState.DELIVERED]: 3,
  [MessageState.READ]: 4,
};

/** Whether an outgoing message has reached `state` (read counts as delivered). */
export function reached(message: Message, state: MessageState.DELIVERED | MessageState.READ): boolean {
  return (RANK[message.state] ?? 0) >= (RANK[state] ?? 99);
}

/**
 * Polls until every outgoing message of the conversation has reached `state`; the poll is
 * bounded by a generous deadline because convergence, not speed, is what is checked here.
 * `fetch` reads the whole conversation afresh each round.
 */
export async function waitForOutgoing(fetch: () => Promise<Message[]>, count: number, state: MessageState.DELIVERED | MessageState.READ, what: string, timeoutMs = 180_000): Promise<Message[]> {
  let lastSeen = "";
  return eventually(
    async () => {
      const outgoing = split(await fetch()).outgoing;
      const behind = outgoing.filter((m) => !reached(m, state));
      const sample = behind.slice(0, 8).map((m) => `${m.text}=${MessageState[m.state]}`);
      lastSeen = `${outgoing.length} outgoing, ${behind.length} not yet ${MessageState[state]}${sample.length ? ` (${sample.join(", ")}${behind.length > 8 ? ", …" : ""})` : ""}`;
      return outgoing.length === count && behind.length === 0 ? outgoing : undefined;
    },
    timeoutMs,
    what,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)} — last seen: ${lastSeen}`);
  });
}
