// Latency at a fixed offered rate (open loop), whatever runs the nodes: alice's client sends on
// a schedule (a unary SendMessage per message, or a request on one SendMessages stream: see
// open-loop-senders.js), whether or not earlier sends were answered, and each message's
// latency runs from the send call to the moment bob's Subscribe stream delivers it (issue 18's
// definition). The client wakes on a 1 ms timer, so a call is made up to ~1 ms after it was
// due: that slop is the bench's own, not the node's (until the seventh round it was counted).
// So that a stalled sender cannot hide queueing, each slice also reports `fromSchedule` (from
// the time the send was due) and `sendLag` (how late the client made the call). Slices at the
// target rate rotate with slices at 100 msgs/s and with bare grpc-js unary round trips, the
// reference for one local call.
import { performance } from "node:perf_hooks";
import { unarySender } from "./open-loop-senders.js";
import { latencySummary } from "./percentiles.js";
import { rotateSlices, sig3 } from "./measure.js";

const PAYLOAD = Buffer.alloc(100, 1);
/** A message that has not arrived this long after the last send is counted as lost. */
const DRAIN_LIMIT_MS = 60_000;
const LOW_RATE = 100;

function textFor(tag) {
  const head = `${tag}|`;
  return head + "x".repeat(Math.max(0, 100 - head.length));
}

/**
 * Matches bob's received messages to their scheduled sends: `arrived(tag, at)` with the
 * message's tag and arrival time (performance.now() clock), or `onMessage(text)` as it arrives
 * (receivedCounter's callback). Tags not of ours (the warm-up has none) are ignored.
 */
export function latencyProbe() {
  const scheduled = new Map();
  const arrived = (tag, at) => {
    const entry = scheduled.get(tag);
    if (!entry) return;
    scheduled.delete(tag);
    entry.slice.latencies.push(at - entry.sentAt);
    entry.slice.fromSchedule.push(at - entry.at);
  };
  return {
    scheduled,
    arrived,
    onMessage: (text) => arrived(text.slice(0, text.indexOf("|")), performance.now()),
  };
}

/** Offers n messages at `rate` through `sender`; counts refusals in `refusedBy` (domain code, e.g. busy). */
async function offered(sender, received, scheduled, slice, { rate, n }) {
  const { refusedBy } = slice;
  const before = received.count;
  let refused = 0;
  const start = performance.now();
  let i = 0;
  while (i < n) {
    const due = Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due; i++) {
      const tag = `${rate}-${before}-${i}`;
      const at = start + (i * 1000) / rate;
      const sentAt = performance.now();
      slice.sendLag.push(sentAt - at);
      scheduled.set(tag, { at, sentAt, slice });
      sender.send(textFor(tag), (code) => {
        refused++;
        refusedBy[code] = (refusedBy[code] ?? 0) + 1;
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

/** Seconds an async fn took (what rotateSlices sums per kind). */
function timed(fn) {
  return async () => {
    const start = performance.now();
    await fn();
    return (performance.now() - start) / 1000;
  };
}

/**
 * `rounds` rotations of three slices: `n / rounds` messages offered at `rate`, a tenth of that
 * (at least 10) at 100 msgs/s, and as many bare grpc-js unary round trips on `echo`. `client`
 * is alice's SessionService client, `received` bob's counter (count, until) fed by `probe`;
 * `sending` (default: unary SendMessage) makes the sender from the client (`open-loop-senders.js`).
 * With `cpu` (a cpuMeter) only the target-rate slices are metered; `targetSlices` in the
 * result has the messages and seconds to divide its sums by.
 */
export async function openLoopLatency({ client, received, probe, echo, rate, n, rounds, cpu, sending = unarySender }) {
  const sender = sending(client);
  try {
    return await openLoop({ sender, received, probe, echo, rate, n, rounds, cpu });
  } finally {
    await sender.close();
  }
}

async function openLoop({ sender, received, probe, echo, rate, n, rounds, cpu }) {
  const newSlices = () => ({ latencies: [], fromSchedule: [], sendLag: [], refused: 0, refusedBy: {}, lost: 0 });
  const target = newSlices();
  const low = newSlices();
  const grpc = [];
  const perSlice = Math.ceil(n / rounds);
  const lowPerSlice = Math.max(10, Math.ceil(perSlice / 10));
  const offer = async (total, options) => {
    const slice = await offered(sender, received, probe.scheduled, total, options);
    total.refused += slice.refused;
    total.lost += slice.lost;
  };
  const { seconds } = await rotateSlices(
    {
      target: {
        run: timed(async () => {
          cpu?.start();
          await offer(target, { rate, n: perSlice });
          cpu?.stop();
        }),
      },
      low: { run: timed(() => offer(low, { rate: LOW_RATE, n: lowPerSlice })) },
      grpcUnary: {
        run: timed(async () => {
          for (let i = 0; i < lowPerSlice; i++) {
            const start = performance.now();
            await echo.unaryCall(PAYLOAD);
            grpc.push(performance.now() - start);
          }
        }),
      },
    },
    rounds,
  );
  const summary = (s) => ({
    ...latencySummary(s.latencies),
    refused: s.refused,
    refusedBy: s.refusedBy,
    lost: s.lost,
    fromSchedule: latencySummary(s.fromSchedule),
    sendLag: latencySummary(s.sendLag),
  });
  const figure = summary(target);
  const grpcUnary = latencySummary(grpc);
  return {
    figure: figure.p50,
    unit: `ms p50 from the send call (${sender.name}) to bob's Subscribe event, offered ${rate} msgs/s open loop; fromSchedule: from the time the send was due; sendLag: how late the client made the call`,
    atRate: { offeredPerSecond: rate, ...figure },
    at100PerSecond: { offeredPerSecond: LOW_RATE, ...summary(low) },
    ceiling: grpcUnary.p50,
    ceilingName: "ms p50 of a bare grpc-js unary round trip over a Unix socket (100 bytes)",
    grpcUnary,
    ratio: sig3(grpcUnary.p50 / Math.max(figure.p50, 1e-6)),
    target: { p50Ms: 2, p99Ms: 10, offeredPerSecond: 1000 },
    /** What the meter, if any, divides by, and the wall time it ran over. */
    targetSlices: { offeredMessages: perSlice * rounds, acceptedMessages: perSlice * rounds - target.refused, seconds: Math.round(seconds.target * 1000) / 1000 },
  };
}
