import { monitorEventLoopDelay } from "node:perf_hooks";
import { expect } from "vitest";
import { eventually } from "../helpers/cli.js";
import { LoadNode, linkNodes } from "./load-nodes.js";
import { ReferenceLoop } from "./load-reference.js";
import { seedFromEnv, seededRandom, soak } from "./scale.js";

export type Topology = "star" | "mesh";

export interface LoadPlan {
  topology: Topology;
  nodes: number;
  /** Messages each node sends (star: each leaf to the hub, the hub spread over the leaves). */
  perNode: number;
  seed: number;
}

export interface LoadReport {
  topology: Topology;
  nodes: number;
  channels: number;
  messages: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  setupMs: number;
  trafficMs: number;
  /** Largest event-loop stall while the messages flowed (monitorEventLoopDelay, 10 ms resolution). */
  maxEventLoopDelayMs: number;
  p99EventLoopDelayMs: number;
  /** The same, meanwhile, in an idle process on the same machine (ReferenceLoop). */
  referenceMaxDelayMs: number;
  baselineRssMiB: number;
  /** Peak RSS of this one process, which hosts every node's network and session. */
  peakRssMiB: number;
  perNodeRssMiB: number;
}

const MiB = 1024 * 1024;

/**
 * The assertions of every load test: nothing lost, nothing twice, each sender's order kept;
 * in the soak also no event-loop stall over 200 ms. Prints the seed for a replay.
 */
export async function checkLoad(topology: Topology, nodes: number, perNode: number): Promise<LoadReport> {
  const seed = seedFromEnv();
  console.log(`load-${topology} seed ${seed} (replay with JARVIS_SEED=${seed})`);
  const report = await runLoad({ topology, nodes, perNode, seed });
  expect({ lost: report.lost, duplicated: report.duplicated, outOfOrder: report.outOfOrder }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
  if (soak) expect(report.maxEventLoopDelayMs).toBeLessThanOrEqual(200);
  return report;
}

/** Who each node talks to in a topology: the hub is node 0 of a star. */
export function peersOf(topology: Topology, index: number, count: number): number[] {
  if (topology === "mesh") return Array.from({ length: count }, (_, j) => j).filter((j) => j !== index);
  if (index === 0) return Array.from({ length: count - 1 }, (_, j) => j + 1);
  return [0];
}

/**
 * Runs one load scenario: start the nodes, link them in the topology and wait until every
 * channel is up, then every node sends its messages (each node in order, all nodes at once)
 * while the event loop and memory are measured, until every receiver has everything. Then
 * counts, per sender and receiver, what was lost, duplicated or reordered.
 */
export async function runLoad(plan: LoadPlan, log: (line: string) => void = console.log): Promise<LoadReport> {
  const random = seededRandom(plan.seed);
  const baselineRss = process.memoryUsage().rss;
  const started = performance.now();
  const nodes: LoadNode[] = [];
  try {
    for (let i = 0; i < plan.nodes; i++) nodes.push(await LoadNode.start(`${plan.topology}${i}`));
    const peers = nodes.map((_, i) => peersOf(plan.topology, i, plan.nodes));
    for (const [i, list] of peers.entries()) for (const j of list) if (j > i) linkNodes(nodes[i]!, nodes[j]!);
    const channels = peers.reduce((sum, list) => sum + list.length, 0) / 2;
    await eventually(
      async () => (nodes.every((node, i) => node.connectedPeers() >= peers[i]!.length) ? true : undefined),
      600_000,
      `all ${channels} channels of the ${plan.topology} to connect`,
    );
    const setupMs = performance.now() - started;
    log(`load ${plan.topology}: ${plan.nodes} nodes, ${channels} channels up in ${Math.round(setupMs)} ms`);

    // What each node sends to whom, decided by the seed: a mesh node starts its round-robin
    // over its peers at a random one, so the load is not synchronised across nodes.
    const expected = new Map<string, string[]>();
    const sends = nodes.map((node, i) => {
      const targets = peers[i]!;
      const offset = Math.floor(random() * targets.length);
      return Array.from({ length: plan.perNode }, (_, k) => {
        const to = nodes[targets[(k + offset) % targets.length]!]!;
        const text = `${node.name}#${k}`;
        const key = pairKey(node.uid, to.uid);
        expected.set(key, [...(expected.get(key) ?? []), text]);
        return { to, text };
      });
    });

    const reference = new ReferenceLoop();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const trafficStarted = performance.now();
    await Promise.all(
      nodes.map(async (node, i) => {
        for (const { to, text } of sends[i]!) await node.app.sendMessage(to.uid, text);
      }),
    );
    const expectedPerNode = nodes.map((node) => [...expected.entries()].filter(([key]) => key.endsWith(`>${node.uid}`)).reduce((sum, [, list]) => sum + list.length, 0));
    await untilAllReceived(nodes, expectedPerNode);
    const trafficMs = performance.now() - trafficStarted;
    delay.disable();
    const idle = await reference.stop();
    const peakRss = process.resourceUsage().maxRSS * 1024;

    let lost = 0;
    let duplicated = 0;
    let outOfOrder = 0;
    for (const receiver of nodes) {
      for (const sender of nodes) {
        const want = expected.get(pairKey(sender.uid, receiver.uid)) ?? [];
        const got = receiver.received.get(sender.uid) ?? [];
        const seen = new Set(got);
        // The store must hold each exactly once too, not just the live stream have shown it.
        const stored = want.length > 0 ? storedMessages(receiver, sender.uid).filter((m) => !m.outgoing) : [];
        const storedTexts = new Set(stored.map((m) => m.text));
        lost += want.filter((text) => !seen.has(text) || !storedTexts.has(text)).length;
        duplicated += Math.max(got.length - seen.size, stored.length - storedTexts.size);
        if (want.length === got.length && want.some((text, k) => got[k] !== text)) outOfOrder++;
      }
    }
    const report: LoadReport = {
      topology: plan.topology,
      nodes: plan.nodes,
      channels,
      messages: nodes.length * plan.perNode,
      lost,
      duplicated,
      outOfOrder,
      setupMs: Math.round(setupMs),
      trafficMs: Math.round(trafficMs),
      maxEventLoopDelayMs: round(delay.max / 1e6),
      p99EventLoopDelayMs: round(delay.percentile(99) / 1e6),
      referenceMaxDelayMs: round(idle.max),
      baselineRssMiB: round(baselineRss / MiB),
      peakRssMiB: round(peakRss / MiB),
      perNodeRssMiB: round((peakRss - baselineRss) / MiB / plan.nodes),
    };
    log(`load ${plan.topology}: ${JSON.stringify(report)}`);
    return report;
  } finally {
    for (const node of nodes) await node.close();
  }
}

/**
 * Waits until every node has received what it should. Bounded by progress, not by a clock:
 * it gives up only when nothing new has arrived anywhere for a minute, and then the counts
 * say what is missing.
 */
async function untilAllReceived(nodes: LoadNode[], expected: number[]): Promise<void> {
  const total = () => nodes.reduce((sum, node) => sum + node.receivedCount, 0);
  let last = -1;
  let lastChange = performance.now();
  while (nodes.some((node, i) => node.receivedCount < expected[i]!)) {
    const now = total();
    if (now !== last) [last, lastChange] = [now, performance.now()];
    else if (performance.now() - lastChange > 60_000) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A whole conversation from the node's store, oldest first, page by page (pages hold ≤ 1,000). */
function storedMessages(node: LoadNode, conversation: string): { text: string; outgoing: boolean }[] {
  const all: { text: string; outgoing: boolean }[] = [];
  let before = 0;
  for (;;) {
    const page = node.app.listMessages(conversation, { before, after: 0, limit: 1_000 });
    all.unshift(...page.messages);
    const oldest = page.messages[0];
    if (!page.hasMore || !oldest) return all;
    before = oldest.position;
  }
}

function pairKey(from: string, to: string): string {
  return `${from}>${to}`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
