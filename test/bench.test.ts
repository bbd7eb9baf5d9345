import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const BENCH = fileURLToPath(new URL("../bench/run.js", import.meta.url));

interface Measured {
  figure: number;
  ceiling?: number;
  ratio?: number;
  target: unknown;
}
interface LatencySlices {
  [key: string]: unknown;
  offeredPerSecond: number;
  samples: number;
  refused: number;
}
interface LatencyScenario {
  atRate: LatencySlices;
  at100PerSecond: LatencySlices;
  cpuAtRate: { microsPerMessage: Record<string, number>; microsPerOfferedMessage: Record<string, number>; coresBusy: Record<string, number>; busiest: string };
}
type Doc = { mode: string; scenarios: Record<string, Record<string, unknown>> };

/** Every number anywhere in the document, with its path. */
function numbers(value: unknown, path = ""): [string, number][] {
  if (typeof value === "number") return [[path, value]];
  if (value && typeof value === "object") return Object.entries(value).flatMap(([key, v]) => numbers(v, `${path}.${key}`));
  return [];
}

function expectCompared(name: string, scenario: unknown): void {
  const s = scenario as Measured;
  expect(typeof s.figure, `${name}.figure`).toBe("number");
  expect(s.ceiling! > 0, `${name}.ceiling > 0`).toBe(true);
  expect(typeof s.ratio, `${name}.ratio`).toBe("number");
  expect(s.target, `${name}.target`).toBeDefined();
}

// Checks that the bench runs every scenario and prints one well-formed JSON document, with the
// smallest counts (--tiny); it asserts no timings.
describe("npm run bench", () => {
  it("prints one JSON document with a figure, same-run ceiling, ratio and target per scenario", async () => {
    const { stdout, stderr } = await run(process.execPath, [BENCH, "--tiny"], { maxBuffer: 4 << 20 });
    // The bench's server processes inherit its stderr: no warning about listeners on shared
    // abort signals (connect-node's server linked one per call in flight to its shutdown signal).
    expect(stderr).not.toContain("MaxListenersExceededWarning");
    const doc = JSON.parse(stdout) as Doc;
    expect(doc.mode).toBe("tiny");
    const { endToEnd, nodesAsProcesses, history, latencyProcessTrees, latencyProcessTreesStreaming, ...single } = doc.scenarios;
    expect(Object.keys(single).sort()).toEqual([
      "handshakes",
      "handshakesAcrossProcesses",
      "latencyAt1000PerSecond",
      "manyChannels",
      "noiseTransport16KiB",
      "noiseTransport64KiB",
      "oneWayTransports",
      "pipelinedRoundTrips",
      "serverStacks",
    ]);
    for (const [name, scenario] of Object.entries(single)) expectCompared(name, scenario);
    // Handshakes across processes: the 10-concurrent figures beside the sequential ones.
    const concurrent = (single.handshakesAcrossProcesses as { concurrent: Record<string, number> }).concurrent;
    for (const key of ["figure", "secretStream", "ratio", "libp2p", "ratioToLibp2p"]) expect(typeof concurrent[key], `concurrent.${key}`).toBe("number");
    expect(concurrent.concurrency).toBe(10);
    expect((single.handshakesAcrossProcesses as { libp2p: unknown }).libp2p).toBeGreaterThan(0);
    // What each responder process spent per handshake: ours (NetworkNode), secret-stream's,
    // libp2p's and the bare RawNoisePeer responder.
    const responderCpu = (single.handshakesAcrossProcesses as { responderCpuMicrosPerHandshake: Record<string, number> }).responderCpuMicrosPerHandshake;
    expect(Object.keys(responderCpu).sort()).toEqual(["libp2p", "libp2pConcurrent", "ours", "oursConcurrent", "rawNoise", "rawNoiseConcurrent", "secretStream", "secretStreamConcurrent"]);
    for (const micros of Object.values(responderCpu)) expect(micros).toBeGreaterThan(0);
    // One way and pipelined round trips: libp2p (TCP + noise + yamux, its own sender and
    // receiver processes) beside secret-stream, raw TCP and ours, with each receiver's CPU per
    // message.
    const oneWay = single.oneWayTransports as { libp2p: unknown; ratioToLibp2p: unknown; receiverCpuMicrosPerMessage: Record<string, number> };
    expect(oneWay.libp2p).toBeGreaterThan(0);
    expect(oneWay.ratioToLibp2p).toBeGreaterThan(0);
    expect(Object.keys(oneWay.receiverCpuMicrosPerMessage).sort()).toEqual(["jarvisNoise", "libp2p", "rawTcp", "secretStream"]);
    const roundTrips = single.pipelinedRoundTrips as { libp2p: unknown; ratioToLibp2p: unknown };
    expect(roundTrips.libp2p).toBeGreaterThan(0);
    expect(roundTrips.ratioToLibp2p).toBeGreaterThan(0);
    // The in-process handshake ceiling is built from the fastest of every X25519 candidate,
    // each timed in this run; the ratio is also given per CPU second.
    const handshakes = single.handshakes as { x25519CandidatesPerSecond: Record<string, Record<string, number>>; perCpuSecond: Measured };
    expect(Object.keys(handshakes.x25519CandidatesPerSecond.keygen!).sort()).toEqual(["generateKeyPairAsync", "generateKeyPairSync", "jwkFromRandomScalar", "sodiumRandomScalar"]);
    expect(Object.keys(handshakes.x25519CandidatesPerSecond.dh!).sort()).toEqual(["cachedGeneratedKeyObjects", "cachedJwkImportedKeyObjects", "sodiumScalarmult"]);
    expect(typeof handshakes.perCpuSecond.ratio).toBe("number");
    // The server stack with the bearer token: the admission interceptor's cost per call.
    expect((single.serverStacks as { withToken: { cpuMicrosPerCall: number } }).withToken.cpuMicrosPerCall).toBeGreaterThan(0);
    // Many channels: the hub's memory with the load generator in its own process.
    const channels = single.manyChannels as { channels: number; hubRssMB: { allConnected: number } };
    expect(channels.hubRssMB.allConnected).toBeGreaterThan(0);

    // Latency as deployed (two `jarvis up` trees, bob's subscriber in a process of its own): the
    // same figures as in one process, and the CPU per message of every process of both trees,
    // of bob's subscriber and of the bench process (alice's client).
    // Both ways of sending: a unary call per message, and one SendMessages stream.
    for (const [name, scenario] of Object.entries({ latencyProcessTrees, latencyProcessTreesStreaming })) {
      expectCompared(name, scenario);
      const latency = scenario as unknown as LatencyScenario;
      for (const slices of [latency.atRate, latency.at100PerSecond]) {
        for (const key of ["p50", "p99", "max", "refused", "lost"]) expect(typeof slices[key], `${name}.${key}`).toBe("number");
        expect(slices.samples + slices.refused).toBeGreaterThan(0);
        // From the send call (the figure), from the time it was due, and the client's lateness.
        for (const part of ["fromSchedule", "sendLag"]) {
          const summary = slices[part] as Record<string, unknown>;
          for (const key of ["p50", "p99", "max", "samples"]) expect(typeof summary[key], `${name}.${part}.${key}`).toBe("number");
        }
        expect((slices.sendLag as { samples: number }).samples).toBe(slices.samples + slices.refused + (slices.lost as number));
      }
      expect(latency.atRate.offeredPerSecond).toBe(1000);
      const processes = ["aliceDaemon", "aliceNetwork", "aliceSession", "bench", "bobDaemon", "bobNetwork", "bobSession", "bobSubscriber"];
      for (const key of ["microsPerMessage", "microsPerOfferedMessage", "coresBusy"] as const) {
        expect(Object.keys(latency.cpuAtRate[key]).sort(), `${name}.cpuAtRate.${key}`).toEqual(processes);
        for (const value of Object.values(latency.cpuAtRate[key])) expect(value).toBeGreaterThanOrEqual(0);
      }
      expect(processes).toContain(latency.cpuAtRate.busiest);
      // The bench process always spends something (it sends and subscribes): the meter reads it.
      expect(latency.cpuAtRate.microsPerMessage.bench).toBeGreaterThan(0);
    }
    expect((latencyProcessTreesStreaming as { unit: string }).unit).toContain("SendMessages stream");

    expect(Object.keys(endToEnd ?? {}).sort()).toEqual(["streaming", "unaryConcurrency1", "unaryConcurrency16", "unaryConcurrency64"]);
    for (const [name, scenario] of Object.entries(endToEnd ?? {})) expectCompared(`endToEnd.${name}`, scenario);

    const { memory, ...throughput } = nodesAsProcesses ?? {};
    expect(Object.keys(throughput).sort()).toEqual(["streaming", "unaryConcurrency16"]);
    for (const [name, scenario] of Object.entries(throughput)) expectCompared(`nodesAsProcesses.${name}`, scenario);
    // Memory of each service of both process trees, idle and after the load, from /proc.
    for (const phase of ["idle", "afterLoad"]) {
      for (const node of ["alice", "bob"]) {
        const services = (memory as Record<string, Record<string, Record<string, { rssMB: number }>>>)[phase]![node]!;
        expect(Object.keys(services).sort()).toEqual(["daemon", "network", "session"]);
        for (const service of Object.values(services)) expect(service.rssMB).toBeGreaterThan(0);
      }
    }

    for (const name of ["newestPage", "deepPage", "unreadCount"]) expectCompared(`history.${name}`, history?.[name]);
    expect((history?.markRead as { marked: number }).marked).toBe(history?.messages);
    // The reader's MarkRead and the sender applying its receipts are timed apart.
    expect((history?.markRead as { senderAppliesReceipts: Measured }).senderAppliesReceipts.figure).toBeGreaterThan(0);
    expect(typeof (history?.unlockToReady as Measured).figure).toBe("number");

    for (const [path, value] of numbers(doc)) expect(Number.isFinite(value), `${path} is finite`).toBe(true);
  }, 300_000);
});
