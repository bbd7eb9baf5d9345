// Latency at a fixed offered rate (open loop): alice's client calls SendMessage on a schedule,
// whether or not earlier calls have returned, and each message's latency runs from its
// scheduled send time (so a stalled sender cannot hide queueing) to the moment bob's
// Subscribe stream delivers it. Slices at the target rate alternate with slices at 100 msgs/s
// and with bare grpc-js unary round trips, the reference for one local call.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startGrpcEcho } from "./grpc-ceiling.js";
import { linkNodes, receivedCounter, startNode } from "./nodes.js";
import { latencySummary } from "./percentiles.js";
import { sig3 } from "./measure.js";

const PAYLOAD = Buffer.alloc(100, 1);
/** A message that has not arrived this long after the last send is counted as lost. */
const DRAIN_LIMIT_MS = 60_000;

function textFor(tag) {
  const head = `${tag}|`;
  return head + "x".repeat(Math.max(0, 100 - head.length));
}

async function offered(alice, received, scheduled, latencies, { rate, n }) {
  const before = received.count;
  let refused = 0;
  const start = performance.now();
  let i = 0;
  while (i < n) {
    const due = Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due; i++) {
      const tag = `${rate}-${before}-${i}`;
      scheduled.set(tag, { at: start + (i * 1000) / rate, latencies });
      alice.client.sendMessage({ conversation: "bob", text: textFor(tag) }).catch(() => {
        refused++;
        scheduled.delete(tag);
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const lastSend = performance.now();
  // Every accepted call has returned once refusals can no longer change; then wait for delivery.
  while (received.count < before + n - refused && performance.now() - lastSend < DRAIN_LIMIT_MS) {
    await Promise.race([received.until(before + n - refused), new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  return { refused, lost: Math.max(0, before + n - refused - received.count) };
}

export async function latencyAtRate({ rate, n, rounds }) {
  const dir = mkdtempSync(join(tmpdir(), "jv-bench-lat-"));
  const echo = await startGrpcEcho(dir);
  const alice = await startNode("alice");
  const bob = await startNode("bob");
  const scheduled = new Map();
  const received = receivedCounter(bob, (text) => {
    const tag = text.slice(0, text.indexOf("|"));
    const entry = scheduled.get(tag);
    if (!entry) return;
    scheduled.delete(tag);
    entry.latencies.push(performance.now() - entry.at);
  });
  try {
    linkNodes(alice, bob);
    await alice.client.sendMessage({ conversation: "bob", text: "warm-up" });
    await received.until(1);
    const target = { latencies: [], refused: 0, lost: 0 };
    const low = { latencies: [], refused: 0, lost: 0 };
    const grpc = [];
    const perSlice = Math.ceil(n / rounds);
    const lowPerSlice = Math.max(10, Math.ceil(perSlice / 10));
    const slices = [
      async () => add(target, await offered(alice, received, scheduled, target.latencies, { rate, n: perSlice })),
      async () => add(low, await offered(alice, received, scheduled, low.latencies, { rate: 100, n: lowPerSlice })),
      async () => {
        for (let i = 0; i < lowPerSlice; i++) {
          const start = performance.now();
          await echo.unaryCall(PAYLOAD);
          grpc.push(performance.now() - start);
        }
      },
    ];
    for (let round = 0; round < rounds; round++) {
      // Rotate the order so no slice always follows the busiest one.
      for (let k = 0; k < slices.length; k++) await slices[(k + round) % slices.length]();
    }
    const summary = (s) => ({ ...latencySummary(s.latencies), refused: s.refused, lost: s.lost });
    const figure = summary(target);
    const at100 = summary(low);
    const grpcUnary = latencySummary(grpc);
    return {
      figure: figure.p50,
      unit: `ms p50 from scheduled SendMessage to bob's Subscribe event, offered ${rate} msgs/s open loop`,
      atRate: { offeredPerSecond: rate, ...figure },
      at100PerSecond: { offeredPerSecond: 100, ...at100 },
      ceiling: grpcUnary.p50,
      ceilingName: "ms p50 of a bare grpc-js unary round trip over a Unix socket (100 bytes)",
      grpcUnary,
      ratio: sig3(grpcUnary.p50 / Math.max(figure.p50, 1e-6)),
      target: { p50Ms: 2, p99Ms: 10, offeredPerSecond: 1000 },
    };
  } finally {
    received.stop();
    await alice.close();
    await bob.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function add(total, slice) {
  total.refused += slice.refused;
  total.lost += slice.lost;
}
