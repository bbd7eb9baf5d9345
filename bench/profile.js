#!/usr/bin/env node
// node bench/profile.js [--quick]: the end-to-end streaming scenario between two `jarvis up`
// process trees, with the sender's session under the V8 CPU profiler (--cpu-prof's profiler,
// started through node:inspector by bench/peers/cpu-profile-hook.js); prints the sender
// session's profile summarised by self time (bench/profile-summary.js) as JSON.
// BENCH_PROFILE_N overrides the number of messages.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { streamed } from "./e2e.js";
import { startLinkedPair } from "./process-nodes.js";
import { fileURLToPath } from "node:url";
import { summariseProfile } from "./profile-summary.js";

const HOOK = fileURLToPath(new URL("./peers/cpu-profile-hook.js", import.meta.url));

const quick = process.argv.includes("--quick");
const n = Number(process.env.BENCH_PROFILE_N ?? (quick ? 2000 : 20_000));
const profiles = mkdtempSync(join(tmpdir(), "jv-prof-"));
let pair;
try {
  pair = await startLinkedPair({
    aliceEnv: { NODE_OPTIONS: `--import ${HOOK}`, BENCH_PROFILE_ROLE: "session", BENCH_PROFILE_DIR: profiles },
  });
  const { alice, received } = pair;
  const start = process.hrtime.bigint();
  const refused = await streamed(alice.client, n);
  await received.until(1 + n - refused);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const sessionPid = alice.pids.session;
  // The profile is written when the session exits; `jarvis down` stops it cleanly.
  await pair.close();
  const file = readdirSync(profiles).find((name) => name === `session.${sessionPid}.cpuprofile`);
  if (!file) throw new Error(`no profile of the sender session (pid ${sessionPid}) in ${profiles}: ${readdirSync(profiles).join(", ")}`);
  const summary = summariseProfile(JSON.parse(readFileSync(join(profiles, file), "utf8")));
  const doc = {
    scenario: `streaming SendMessages of ${n} 100-byte messages, alice → bob, two jarvis up process trees`,
    loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
    messages: n,
    refused,
    msgsPerSecond: Math.round((n - refused) / seconds),
    // Busy CPU over the messages accepted (refused requests cost CPU too, so this is an upper bound).
    senderSession: { ...summary, cpuMsPerAcceptedMessage: Math.round((summary.busyMs / Math.max(1, n - refused)) * 1000) / 1000 },
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
} finally {
  await pair?.close();
  rmSync(profiles, { recursive: true, force: true });
}
process.exit(0);
