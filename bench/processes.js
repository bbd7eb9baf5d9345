// End to end with every node a real process tree (`jarvis up`: supervisor, network, session),
// as people run it: N messages through alice's public API until bob's subscriber has seen them
// stored, interleaved with the bare grpc-js bidi ceiling; and the memory of each service
// (VmRSS now, VmHWM peak) idle and after the load.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deliverySlice, streamed, unary } from "./e2e.js";
import { startGrpcEcho } from "./grpc-ceiling.js";
import { startLinkedPair } from "./process-nodes.js";
import { interleaved, round0, timeAsync } from "./measure.js";

const PAYLOAD = Buffer.alloc(100, 1);

export async function nodesAsProcesses({ n, rounds }) {
  const dir = mkdtempSync(join(tmpdir(), "jv-bench-proc-"));
  const echo = await startGrpcEcho(dir);
  let pair;
  try {
    pair = await startLinkedPair();
    const { alice, bob, received } = pair;
    const idle = { alice: alice.memory(), bob: bob.memory() };

    const ceiling = () => timeAsync(n, () => echo.roundTrips(n, PAYLOAD));
    const scenario = (send) => deliverySlice(received, n, send);
    const results = {};
    for (const [name, send] of [
      ["unaryConcurrency16", () => unary(alice.client, n, 16)],
      ["streaming", () => streamed(alice.client, n)],
    ]) {
      const r = await interleaved(rounds, scenario(send), ceiling);
      results[name] = {
        figure: round0(r.figure),
        unit: "msgs/s, two `jarvis up` process trees, public API to the receiver's subscriber",
        ceiling: round0(r.ceiling),
        ceilingName: "bare grpc-js bidi stream over a Unix socket, 100-byte echo round trips/s",
        ratio: r.ratio,
        target: { perSecond: 10_000, ratio: 0.25 },
        messagesPerSlice: n,
      };
    }
    return {
      ...results,
      memory: {
        unit: "MB per process: rssMB = VmRSS at that moment, peakMB = VmHWM since start",
        idle,
        afterLoad: { alice: alice.memory(), bob: bob.memory() },
      },
    };
  } finally {
    await pair?.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
