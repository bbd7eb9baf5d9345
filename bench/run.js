#!/usr/bin/env node
// npm run bench [-- --quick]: prints one JSON document. Every figure comes with a reference
// measured in the same run, interleaved with it in alternating slices, and the ratio between
// them, so the numbers mean something on a loaded or different machine (design §12).
// --tiny (the shape test only) uses the smallest counts that still exercise every scenario.
// BENCH_E2E_N overrides the messages per end-to-end slice.
import { cpus, loadavg } from "node:os";
import { manyChannels } from "./channels.js";
import { handshakesVsX25519, noiseVsRawCipher } from "./crypto.js";
import { handshakesAcrossProcesses } from "./handshakes.js";
import { endToEnd } from "./e2e.js";
import { history } from "./history.js";
import { latencyAtRate } from "./latency.js";
import { latencyOverProcessTrees } from "./latency-process-trees.js";
import { streamSender } from "./open-loop-senders.js";
import { nodesAsProcesses } from "./processes.js";
import { pipelinedRoundTrips } from "./round-trips.js";
import { serverStacks } from "./server-stacks.js";
import { oneWayTransports } from "./transports.js";

// processN (two `jarvis up` trees) is 20,000 in a full run: a SendMessages stream keeps up to
// ~770 messages in flight (window 256 + busy backlog 512), and with 5,000 per slice filling and
// draining that pipeline cost ~14% of the rate (9.2–9.4k against 10.8k msgs/s, same machine,
// 08:24 on 2026-11-28); the figure is meant to be the steady rate.
const MODES = {
  full: { sliceMs: 1000, rounds: 4, n: 5000, latencyN: 10_000, latencyProcessN: 20_000, processN: 20_000, transportN: 100_000, channels: 1000, history: 1_000_000, stackN: 5000, handshakeN: 500, roundTripN: 50_000 },
  quick: { sliceMs: 250, rounds: 2, n: 1000, latencyN: 1000, latencyProcessN: 5000, processN: 500, transportN: 20_000, channels: 200, history: 50_000, stackN: 1000, handshakeN: 100, roundTripN: 5000 },
  tiny: { sliceMs: 20, rounds: 2, n: 10, latencyN: 20, latencyProcessN: 20, processN: 10, transportN: 100, channels: 4, history: 200, stackN: 20, handshakeN: 4, roundTripN: 50 },
};
const mode = process.argv.includes("--tiny") ? "tiny" : process.argv.includes("--quick") ? "quick" : "full";
const s = MODES[mode];
const n = Number(process.env.BENCH_E2E_N ?? s.n);
const round2 = (x) => Math.round(x * 100) / 100;

const scenarios = {};
const started = process.hrtime.bigint();
/** Runs one scenario and records it (with its own load average, as the machine is shared). */
async function scenario(name, run) {
  const result = await run();
  scenarios[name] = result;
  process.stderr.write(`bench: ${name} done, load average ${loadavg().map(round2).join(" ")}\n`);
}

const loadAverageAtStart = loadavg().map(round2);
await scenario("noiseTransport16KiB", () => noiseVsRawCipher({ size: 16 * 1024, sliceMs: s.sliceMs, rounds: s.rounds }));
await scenario("noiseTransport64KiB", () => noiseVsRawCipher({ size: 65_518, sliceMs: s.sliceMs, rounds: s.rounds }));
await scenario("handshakes", () => handshakesVsX25519({ sliceMs: s.sliceMs, rounds: s.rounds }));
await scenario("handshakesAcrossProcesses", () => handshakesAcrossProcesses({ n: s.handshakeN, rounds: s.rounds, concurrency: 10 }));
await scenario("oneWayTransports", () => oneWayTransports({ n: s.transportN, rounds: s.rounds }));
await scenario("pipelinedRoundTrips", () => pipelinedRoundTrips({ n: s.roundTripN, rounds: s.rounds, window: 16 }));
await scenario("serverStacks", () => serverStacks({ n: s.stackN, rounds: s.rounds }));
await scenario("endToEnd", () => endToEnd({ n, rounds: s.rounds }));
await scenario("latencyAt1000PerSecond", () => latencyAtRate({ rate: 1000, n: s.latencyN, rounds: s.rounds }));
// As deployed: the same open loop over two `jarvis up` trees (quick: 2.5 s per 1,000/s slice).
await scenario("latencyProcessTrees", () => latencyOverProcessTrees({ rate: 1000, n: s.latencyProcessN, rounds: s.rounds }));
// The same with alice's client writing each message, when due, to one SendMessages stream.
await scenario("latencyProcessTreesStreaming", () => latencyOverProcessTrees({ rate: 1000, n: s.latencyProcessN, rounds: s.rounds, sending: streamSender }));
await scenario("nodesAsProcesses", () => nodesAsProcesses({ n: s.processN, rounds: s.rounds }));
await scenario("manyChannels", () => manyChannels({ count: s.channels, perPeer: 10 }));
await scenario("history", () => history({ count: s.history, sliceMs: s.sliceMs, rounds: s.rounds }));

const result = {
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "", loadAverageAtStart, loadAverageAtEnd: loadavg().map(round2) },
  mode,
  seconds: round2(Number(process.hrtime.bigint() - started) / 1e9),
  scenarios,
  // libp2p (TCP + noise + yamux) is measured in oneWayTransports, pipelinedRoundTrips and
  // handshakesAcrossProcesses: its processes run with a Promise.withResolvers polyfill (Node 20).
  notMeasured: [],
};
process.stdout.write(JSON.stringify(result, null, 2) + "\n");
// Sockets of closed gRPC clients can hold the loop open for a while; the document is complete.
process.exit(0);
