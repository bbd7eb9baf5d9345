// Latency at a fixed offered rate (open loop, `open-loop.js`) as deployed: alice and bob are
// each a `jarvis up` process tree (daemon, network, session), the bench process is only the
// client (alice's sender and bob's subscriber). For the target-rate slices it also records
// each process's CPU µs per accepted message and how many cores it kept busy: which one limits.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuMeter } from "./cpu-meter.js";
import { startGrpcEcho } from "./grpc-ceiling.js";
import { latencyProbe, openLoopLatency } from "./open-loop.js";
import { startLinkedPair } from "./process-nodes.js";

const capitalised = (word) => word[0].toUpperCase() + word.slice(1);

export async function latencyOverProcessTrees({ rate, n, rounds }) {
  const dir = mkdtempSync(join(tmpdir(), "jv-bench-latp-"));
  const echo = await startGrpcEcho(dir);
  const probe = latencyProbe();
  let pair;
  try {
    pair = await startLinkedPair({ onMessage: probe.onMessage });
    const { alice, bob, received } = pair;
    // aliceSession, aliceNetwork, aliceDaemon, bobSession, … (the bench process is added as `bench`).
    const pids = Object.fromEntries(
      [alice, bob].flatMap((node) => Object.entries(node.pids).map(([service, pid]) => [`${node.name}${capitalised(service)}`, pid])),
    );
    const cpu = cpuMeter(pids);
    const result = await openLoopLatency({ client: alice.client, received, probe, echo, rate, n, rounds, cpu });
    const { acceptedMessages, seconds } = result.targetSlices;
    const perMessage = cpu.perMessage(acceptedMessages);
    const busy = cpu.perSecond(seconds);
    const busiest = Object.keys(busy).reduce((a, b) => (busy[b] > busy[a] ? b : a));
    return {
      ...result,
      cpuAtRate: {
        unit: `over the ${rate} msgs/s slices: CPU µs per accepted message (/proc/PID/stat, 10 ms ticks; bench = this process) and cores kept busy (CPU s per wall s)`,
        microsPerMessage: perMessage,
        coresBusy: busy,
        busiest,
      },
    };
  } finally {
    await pair?.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
