#!/usr/bin/env node
// npm run bench [-- --quick]: prints one JSON document. Every figure comes with a reference
// measured in the same run, interleaved with it in alternating slices, and the ratio between
// them, so the numbers mean something on a loaded or different machine (design §12).
// BENCH_E2E_N overrides the messages per end-to-end slice (the bench test uses a tiny count).
import { cpus, loadavg } from "node:os";
import { handshakesVsX25519, noiseVsRawCipher } from "./crypto.js";
import { endToEnd } from "./e2e.js";

const quick = process.argv.includes("--quick");
const settings = quick ? { sliceMs: 250, rounds: 2, n: 1000 } : { sliceMs: 1000, rounds: 4, n: 5000 };
const n = Number(process.env.BENCH_E2E_N ?? settings.n);

const result = {
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "", loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100) },
  mode: quick ? "quick" : "full",
  scenarios: {
    noiseTransport16KiB: await noiseVsRawCipher({ size: 16 * 1024, sliceMs: settings.sliceMs, rounds: settings.rounds }),
    noiseTransport64KiB: await noiseVsRawCipher({ size: 65_518, sliceMs: settings.sliceMs, rounds: settings.rounds }),
    handshakes: await handshakesVsX25519({ sliceMs: settings.sliceMs, rounds: settings.rounds }),
    endToEnd: await endToEnd({ n, rounds: settings.rounds }),
  },
  notMeasuredYet: [
    "secret-stream and libp2p peers",
    "latency at a fixed 1,000 msgs/s",
    "1,000 concurrent peer channels",
    "history with 1,000,000 messages",
    "RSS per service",
    "raw TCP one write per message",
  ],
};
process.stdout.write(JSON.stringify(result, null, 2) + "\n");
// Sockets of closed gRPC clients can hold the loop open for a while; the document is complete.
process.exit(0);
