#!/usr/bin/env node
// A node's subscriber in its own process (as bob's TUI would be): subscribes to the session's
// public API at BENCH_SESSION_ADDRESS (token BENCH_SESSION_TOKEN, if any), and for every
// message_received event writes one line "<tag> <arrival ns>": the tag is the text before its
// first "|" (empty when there is none), the time process.hrtime.bigint(), the system's
// monotonic clock, which the bench process reads too. Lines go in bunches (below).
// stdin closing (the bench gone) ends the process.
import { createClient } from "@connectrpc/connect";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { SESSION_CLIENT_TUNING } from "@jarvis/session/client-codecs";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";

const address = parseIpcAddress(process.env.BENCH_SESSION_ADDRESS ?? "");
const token = process.env.BENCH_SESSION_TOKEN || undefined;
const client = createClient(SessionService, createIpcTransport(address, { token, ...SESSION_CLIENT_TUNING }));

process.stdin.on("data", () => {});
process.stdin.on("close", () => process.exit(0));

// Arrivals are stamped as they come but reported in bunches: a pipe write per message would
// wake the bench process (alice's client, on the same two cores) once per message for the
// measurement alone. The delay shifts only when the bench learns of an arrival, not its time.
const REPORT_EVERY_MS = Number(process.env.BENCH_REPORT_EVERY_MS ?? 50);
let pending = [];
function flush() {
  process.stdout.write(pending.join("\n") + "\n");
  pending = [];
}

try {
  for await (const event of client.subscribe({ liveOnly: true })) {
    if (event.event.case !== "messageReceived") continue;
    const at = process.hrtime.bigint();
    const text = event.event.value.message?.text ?? "";
    if (pending.length === 0) setTimeout(flush, REPORT_EVERY_MS);
    pending.push(`${text.slice(0, Math.max(0, text.indexOf("|")))} ${at}`);
  }
} catch (error) {
  // The bench stops this process before the session; a broken stream before that is a failure.
  process.stderr.write(`subscriber: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
