import { Backoff, foregroundClock, sleep, type BackoffPolicy } from "@jarvis/core";
import { errorCodeOf } from "@jarvis/rpc";
import { flagValue } from "../args.js";
import { CliError } from "../cli-error.js";
import { connectSession } from "../connection.js";
import { loadHistory, MAX_PAGE, parsePosition } from "../history-pages.js";
import { eventJson, formatTime, messageJson, printable, safeJson, senderLabels, stateName } from "../format.js";
import type { CommandContext } from "../context.js";

/** While the daemon restarts: retry soon, then every 2 s; give up after ~7 minutes of failures. */
const RESUBSCRIBE_BACKOFF: BackoffPolicy = { baseMs: 50, factor: 2, capMs: 2_000, jitter: "none" };
const MAX_RESUBSCRIBE_FAILURES = 200;

export async function send(ctx: CommandContext): Promise<number> {
  const [conversation, ...words] = ctx.params;
  if (!conversation || words.length === 0) throw new CliError("usage: jarvis send CONTACT|GROUP TEXT", 2);
  const { message } = await (await connectSession(ctx.paths)).sendMessage({ conversation, text: words.join(" ") });
  if (!message) throw new CliError("no message returned");
  ctx.out(ctx.json ? safeJson(messageJson(message)) : `${message.id} ${stateName(message.state)}`);
  return 0;
}

export async function history(ctx: CommandContext): Promise<number> {
  const conversation = ctx.params[0];
  if (!conversation) throw new CliError("usage: jarvis history CONTACT|GROUP [--json] [--limit N] [--before POS] [--after POS] [--all]", 2);
  const limitFlag = flagValue(ctx.args, "limit");
  const all = ctx.args.flags.get("all") === true;
  // --all reads whole pages unless told otherwise; a single page defaults to the newest 50.
  const limit = limitFlag === undefined ? (all ? MAX_PAGE : 50) : Number(limitFlag);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new CliError(`--limit must be a whole number from 1 to ${MAX_PAGE}`, 2);
  const before = parsePosition(flagValue(ctx.args, "before"), "before");
  const after = parsePosition(flagValue(ctx.args, "after"), "after");
  if (before > 0 && after > 0 && before <= after) throw new CliError("--before must be greater than --after", 2);
  const client = await connectSession(ctx.paths);
  const messages = await loadHistory(client, conversation, { before, after, limit, all });
  if (ctx.json) {
    ctx.out(safeJson(messages.map(messageJson)));
    return 0;
  }
  const { contacts } = await client.listContacts({});
  const groupId = messages.find((m) => m.conversationId.startsWith("g"))?.conversationId;
  const members = groupId ? ((await client.getGroup({ group: groupId })).group?.members ?? []) : [];
  const ownName = (await client.getIdentity({})).identity?.name ?? "";
  const labels = senderLabels(contacts, members, ownName);
  for (const m of messages) {
    const who = m.outgoing ? "me" : (labels.get(m.senderUid) ?? m.senderUid.slice(0, 8));
    const state = m.outgoing ? ` [${stateName(m.state)}]` : "";
    ctx.out(`${formatTime(m.sentTime)} ${who}: ${printable(m.text)}${state}`);
  }
  return 0;
}

export async function read(ctx: CommandContext): Promise<number> {
  const conversation = ctx.params[0];
  if (!conversation) throw new CliError("usage: jarvis read CONTACT|GROUP", 2);
  const { marked } = await (await connectSession(ctx.paths)).markRead({ conversation });
  ctx.out(ctx.json ? safeJson({ marked }) : `${marked} marked read`);
  return 0;
}

/**
 * Prints the event stream. If the daemon restarts or the stream breaks, it resubscribes
 * from the last cursor it printed, so nothing is missed or printed twice.
 */
export async function watch(ctx: CommandContext): Promise<number> {
  const afterFlag = flagValue(ctx.args, "after");
  let cursor = afterFlag === undefined ? undefined : BigInt(parseCursor(afterFlag));
  const backoff = new Backoff(RESUBSCRIBE_BACKOFF);
  while (!ctx.signal.aborted) {
    try {
      const client = await connectSession(ctx.paths);
      const stream = client.subscribe({ afterCursor: cursor ?? 0n, liveOnly: cursor === undefined }, { signal: ctx.signal });
      for await (const event of stream) {
        backoff.reset();
        cursor = event.cursor;
        if (ctx.json) ctx.out(safeJson(eventJson(event)));
        else ctx.out(describe(eventJson(event)));
      }
    } catch (error) {
      if (ctx.signal.aborted) break;
      // Locked before anything was printed: say so instead of waiting for an unlock.
      if (errorCodeOf(error) === "locked" && backoff.attempt === 0 && cursor === undefined) throw error;
      if (backoff.attempt >= MAX_RESUBSCRIBE_FAILURES) throw error;
      if (backoff.attempt === 0) ctx.err(`jarvis: the node is not answering (${error instanceof Error ? error.message : String(error)}); waiting to resume after cursor ${cursor ?? "now"}`);
    }
    if (ctx.signal.aborted) break;
    try {
      await sleep(foregroundClock, backoff.next(), ctx.signal);
    } catch {
      break; // Ctrl-C while waiting to resubscribe
    }
  }
  return 0;
}

function parseCursor(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError("--after must be a cursor number", 2);
  return n;
}

function describe(event: Record<string, unknown>): string {
  const message = event.message as { from: string; text: string; outgoing: boolean } | undefined;
  if (message) return `[${event.cursor}] ${event.type} ${message.outgoing ? "me" : message.from.slice(0, 8)}: ${printable(message.text)}`;
  const { cursor, type, time: _time, ...rest } = event;
  return `[${cursor}] ${type} ${printable(JSON.stringify(rest))}`;
}
