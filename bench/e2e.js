// End to end: alice's client sends N 100-byte messages through the public API; the figure is
// N over the time until bob's Subscribe stream has seen every one stored. Each scenario is
// interleaved with slices of the bare grpc-js bidi ceiling of the same N.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGrpcEcho } from "./grpc-ceiling.js";
import { linkNodes, receivedCounter, startNode } from "./nodes.js";
import { interleaved, round0, timeAsync } from "./measure.js";

const TEXT = "x".repeat(100);
const PAYLOAD = Buffer.alloc(100, 1);

export async function unary(client, n, concurrency) {
  let next = 0;
  let refused = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        await client.sendMessage({ conversation: "bob", text: TEXT });
      } catch {
        refused++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return refused;
}

export async function streamed(client, n) {
  async function* requests() {
    for (let i = 0; i < n; i++) yield { correlationId: String(i), conversation: "bob", text: TEXT };
  }
  let refused = 0;
  for await (const answer of client.sendMessages(requests())) if (answer.result.case === "error") refused++;
  return refused;
}

/** A slice: `send()` n messages (returning how many were refused), timed until bob's subscriber saw the rest. */
export function deliverySlice(received, n, send) {
  return async () => {
    const before = received.count;
    const start = process.hrtime.bigint();
    const refused = await send();
    await received.until(before + n - refused);
    return { ops: n - refused, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  };
}

export async function endToEnd({ n, rounds }) {
  const dir = mkdtempSync(join(tmpdir(), "jv-bench-grpc-"));
  const echo = await startGrpcEcho(dir);
  const alice = await startNode("alice");
  const bob = await startNode("bob");
  const received = receivedCounter(bob);
  try {
    linkNodes(alice, bob);
    // Warm-up: the channel is up and the subscriber is live once one message got through.
    await alice.client.sendMessage({ conversation: "bob", text: "warm-up" });
    await received.until(1);
    const ceiling = () => timeAsync(n, () => echo.roundTrips(n, PAYLOAD));
    const scenario = (send) => deliverySlice(received, n, send);
    const results = {};
    const cases = [
      ["unaryConcurrency1", () => unary(alice.client, n, 1)],
      ["unaryConcurrency16", () => unary(alice.client, n, 16)],
      ["unaryConcurrency64", () => unary(alice.client, n, 64)],
      ["streaming", () => streamed(alice.client, n)],
    ];
    for (const [name, send] of cases) {
      const r = await interleaved(rounds, scenario(send), ceiling);
      results[name] = {
        figure: round0(r.figure),
        unit: "msgs/s sent through the public API and seen stored by the receiver's subscriber",
        ceiling: round0(r.ceiling),
        ceilingName: "bare grpc-js bidi stream over a Unix socket, 100-byte echo round trips/s",
        ratio: r.ratio,
        target: { perSecond: 10_000, ratio: 0.25 },
        messagesPerSlice: n,
      };
    }
    return results;
  } finally {
    received.stop();
    await alice.close();
    await bob.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
