// Latency at a fixed offered rate (open loop, `open-loop.js`) as deployed: alice and bob are
// each a `jarvis up` process tree (daemon, network, session), bob's subscriber is a process of
// its own (peers/subscriber.js, as bob's TUI would be) and the bench process is alice's client.
// For the target-rate slices it also records each process's CPU µs per accepted message and
// how many cores it kept busy: which one limits. `sending` picks unary calls (default) or one
// SendMessages stream (open-loop-senders.js).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuMeter } from "./cpu-meter.js";
import { startGrpcEcho } from "./grpc-ceiling.js";
import { latencyProbe, openLoopLatency } from "./open-loop.js";
import { startLinkedPair } from "./process-nodes.js";
import { startSubscriberProcess } from "./subscriber-process.js";

const capitalised = (word) => word[0].toUpperCase() + word.slice(1);

export async function latencyOverProcessTrees({ rate, n, rounds, sending }) {
  const dir = mkdtempSync(join(tmpdir(), "jv-bench-latp-"));
  const echo = await startGrpcEcho(dir);
  const probe = latencyProbe();
  let pair;
  try {
    pair = await startLinkedPair({ subscriber: (bob) => startSubscriberProcess(bob, probe.arrived) });
    const { alice, bob, received } = pair;
    // aliceSession, aliceNetwork, aliceDaemon, bobSession, …, bobSubscriber (the bench process,
    // alice's client, is added as `bench`).
    const pids = Object.fromEntries(
      [alice, bob].flatMap((node) => Object.entries(node.pids).map(([service, pid]) => [`${node.name}${capitalised(service)}`, pid])),
    );
    pids.bobSubscriber = received.pid;
    const cpu = cpuMeter(pids);
    const result = await openLoopLatency({ client: alice.client, received, probe, echo, rate, n, rounds, cpu, sending });
    const { offeredMessages, acceptedMessages, seconds } = result.targetSlices;
    const busy = cpu.perSecond(seconds);
    const busiest = Object.keys(busy).reduce((a, b) => (busy[b] > busy[a] ? b : a));
    return {
      ...result,
      cpuAtRate: {
        unit: `over the ${rate} msgs/s slices: CPU µs per accepted message (/proc/PID/stat, 10 ms ticks; bench = this process, alice's client) and cores kept busy (CPU s per wall s)`,
        microsPerMessage: cpu.perMessage(acceptedMessages),
        // Refused calls cost CPU too (the client's most): per offered call, for runs that refused more or fewer.
        microsPerOfferedMessage: cpu.perMessage(offeredMessages),
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
