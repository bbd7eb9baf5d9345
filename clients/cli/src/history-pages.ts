import type { Message } from "@jarvis/proto/jarvis/session/v1/resources";
import { CliError } from "./cli-error.js";
import type { SessionClient } from "./connection.js";

/** Which messages `jarvis history` prints (positions are the cursors shown in its JSON). */
export interface HistoryRange {
  /** Only positions below this; 0 = no bound. */
  before: number;
  /** Only positions above this; 0 = no bound. */
  after: number;
  /** One page's size, 1-1000. */
  limit: number;
  /** Every message in the range, not one page. */
  all: boolean;
}

export const MAX_PAGE = 1000;

/** Parses a position given to --before/--after; absent is 0 (no bound). */
export function parsePosition(value: string | undefined, flag: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`--${flag} must be a message position (a whole number from 1)`, 2);
  return n;
}

/**
 * The messages of one conversation in the range, oldest first. One page is the newest `limit`
 * (or, with `after`, the oldest after it), as ListMessages pages. --all walks the pages: forwards
 * from `after` when given, else backwards from `before` (or the newest) to the first message.
 */
export async function loadHistory(client: SessionClient, conversation: string, range: HistoryRange): Promise<Message[]> {
  const page = (before: number, after: number) => client.listMessages({ conversation, before: BigInt(before), after: BigInt(after), limit: range.limit });
  if (!range.all) return (await page(range.before, range.after)).messages;
  if (range.after > 0) {
    const messages: Message[] = [];
    let after = range.after;
    for (;;) {
      const next = await page(range.before, after);
      messages.push(...next.messages);
      const last = next.messages.at(-1);
      if (!next.hasMore || !last) return messages;
      after = Number(last.position);
    }
  }
  const pages: Message[][] = [];
  let before = range.before;
  for (;;) {
    const next = await page(before, 0);
    pages.push(next.messages);
    const first = next.messages[0];
    if (!next.hasMore || !first) return pages.reverse().flat();
    before = Number(first.position);
  }
}
