// Latency at a fixed offered rate (open loop, `open-loop.js`) with both nodes, their networks
// and the bench client in this one process, on one event loop: everything a message costs is
// serialised on one core. `latency-process-trees.js` is the same over two `jarvis up` trees.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startGrpcEcho } from "./grpc-ceiling.js";
import { linkNodes, receivedCounter, startNode } from "./nodes.js";
import { latencyProbe, openLoopLatency } from "./open-loop.js";

export async function latencyAtRate({ rate, n, rounds }) {
  const dir = mkdtempSync(join(tmpdir(), "jv-bench-lat-"));
  const echo = await startGrpcEcho(dir);
  const alice = await startNode("alice");
  const bob = await startNode("bob");
  const probe = latencyProbe();
  const received = receivedCounter(bob, probe.onMessage);
  try {
    linkNodes(alice, bob);
    await alice.client.sendMessage({ conversation: "bob", text: "warm-up" });
    await received.until(1);
    return await openLoopLatency({ client: alice.client, received, probe, echo, rate, n, rounds });
  } finally {
    received.stop();
    await alice.close();
    await bob.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
