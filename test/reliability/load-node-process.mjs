// One node of the load scenarios, in a process of its own: `node load-node-process.mjs NAME`,
// forked by load-nodes.ts with an IPC channel. The node is what services/session's
// network-link test builds: the session app over its real encrypted store (cheap-KDF test
// profile), its own NetworkNode with a real TCP listener on loopback and real Noise channels,
// and the session's real network client speaking the real gRPC contract; connect's in-memory
// router transport stands in only for the Unix socket between the node's two services, so both
// services share this process's event loop. Its stalls are therefore the sum of both services'
// work, a stricter measure than either service alone would show in its own process.
//
// The parent drives it with requests { id, type, ... } and gets one reply { id, ... } each:
//   link { codes }      add each link code as a contact
//   connected           how many peers are connected
//   send { sends, intervalMs, startInMs }
//                       reset the loop-delay monitor, then send each { to, text } in order,
//                       the k-th no earlier than startInMs + k × intervalMs from now
//   progress            how many messages arrived on the live event stream
//   report { senders }  what arrived from each sender (live stream and store), loop delay, RSS
//   close               stop everything, delete the profile, exit
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { clearInterval, setInterval } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { createRouterTransport } from "@connectrpc/connect";
import { profilePaths, silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, createNetworkRoutes } from "@jarvis/network";
import { SessionApp, createTestProfile, encodeLinkCode, TEST_PASSWORD } from "@jarvis/session/testing";
import { GrpcPeerNetwork } from "../../services/session/dist/network-client.js";

const name = process.argv[2] ?? "node";
const home = mkdtempSync(join(tmpdir(), "jv-load-"));
await createTestProfile(home, { name, password: TEST_PASSWORD });
const network = new NetworkNode({ clock: systemClock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
const client = new GrpcPeerNetwork(createRouterTransport(createNetworkRoutes(network, silentLogger)), systemClock, silentLogger);
const app = new SessionApp({ paths: profilePaths(home), clock: systemClock, logger: silentLogger, network: client, listen: "127.0.0.1:0", advertise: "" });
client.start();
await app.unlock(TEST_PASSWORD);
// A card handed out before the listener is bound would carry no address to dial.
while (app.status().listenAddress === "") await sleep(20);

/** Incoming messages seen on the live event stream, by sender uid, in arrival order. */
const received = new Map();
let receivedCount = 0;
const events = new AbortController();
const reading = (async () => {
  try {
    for await (const stored of app.subscribe(0, true, events.signal)) {
      if (stored.event.type !== "message_received") continue;
      const { senderUid, text } = stored.event.message;
      const list = received.get(senderUid) ?? [];
      list.push(text);
      received.set(senderUid, list);
      receivedCount++;
    }
  } catch {
    // the store was locked at close
  }
})();

// Start-up (module loading, unlock, connecting) is not a stall of a running node: the monitor
// is reset when the traffic starts.
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
let busyRetries = 0;

/**
 * Where the longest stalls went. A 10 ms ticker notes each late tick: how long the loop was
 * away, how much of that this thread ran (its CPU time), how much it waited for a core (the
 * scheduler's run-queue time, /proc/thread-self/schedstat), and the rest, blocked in the
 * kernel (a disk write, a lock); of that, block I/O when kernel.task_delayacct is on. Kept: the
 * five longest.
 */
const stalls = [];
const schedWaitMs = () => Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[1]) / 1e6;
// Block-I/O delay of this thread, in clock ticks (10 ms); 0 unless kernel.task_delayacct is on.
const ioWaitMs = () => Number(readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1].split(" ")[39]) * 10;
let tick = { at: performance.now(), cpu: process.cpuUsage(), wait: schedWaitMs(), io: ioWaitMs() };
const ticker = setInterval(() => {
  const now = { at: performance.now(), cpu: process.cpuUsage(), wait: schedWaitMs(), io: ioWaitMs() };
  const awayMs = now.at - tick.at;
  if (awayMs > 100) {
    const cpuMs = (now.cpu.user + now.cpu.system - tick.cpu.user - tick.cpu.system) / 1000;
    const waitMs = now.wait - tick.wait;
    stalls.push({ awayMs: Math.round(awayMs), cpuMs: Math.round(cpuMs), waitingForCpuMs: Math.round(waitMs), blockedMs: Math.max(0, Math.round(awayMs - cpuMs - waitMs)), ioMs: now.io - tick.io });
    stalls.sort((a, b) => b.awayMs - a.awayMs);
    stalls.length = Math.min(stalls.length, 5);
  }
  tick = now;
}, 10);
let cpuAtStart = process.cpuUsage();

/** A unary send, retried after the hinted pause when the contact is `busy`, as a client should. */
async function send(to, text) {
  for (;;) {
    try {
      return await app.sendMessage(to, text);
    } catch (error) {
      if (error?.code !== "busy") throw error;
      busyRetries++;
      await sleep(error.retryAfterMs ?? 50);
    }
  }
}

/** A whole conversation from the store, oldest first, page by page (pages hold ≤ 1,000). */
function storedIncoming(conversation) {
  const all = [];
  let before = 0;
  for (;;) {
    const page = app.listMessages(conversation, { before, after: 0, limit: 1_000 });
    all.unshift(...page.messages);
    const oldest = page.messages[0];
    if (!page.hasMore || !oldest) return all.filter((m) => !m.outgoing).map((m) => m.text);
    before = oldest.position;
  }
}

const handlers = {
  link: ({ codes }) => {
    for (const linkCode of codes) app.addContact({ linkCode }, "");
    return {};
  },
  connected: () => ({ count: network.listPeers().filter((p) => p.state === "connected").length }),
  send: async ({ sends, intervalMs, startInMs }) => {
    delay.reset();
    stalls.length = 0;
    cpuAtStart = process.cpuUsage();
    const start = performance.now() + startInMs;
    for (const [k, { to, text }] of sends.entries()) {
      // Paced, but never bunched up to catch up: a late send goes at once, the next on schedule.
      const wait = start + k * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      await send(to, text);
    }
    return {};
  },
  progress: () => ({ received: receivedCount }),
  report: ({ senders }) => ({
    received: Object.fromEntries(senders.map((uid) => [uid, received.get(uid) ?? []])),
    stored: Object.fromEntries(senders.map((uid) => [uid, storedIncoming(uid)])),
    maxDelayMs: delay.max / 1e6,
    p99DelayMs: delay.percentile(99) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    busyRetries,
    stalls,
    cpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpuAtStart)),
  }),
  close: async () => {
    delay.disable();
    clearInterval(ticker);
    events.abort();
    await reading;
    await app.close();
    await client.close();
    await network.close();
    rmSync(home, { recursive: true, force: true });
    return {};
  },
};

process.on("message", async (request) => {
  let reply;
  try {
    reply = { id: request.id, ...(await handlers[request.type](request)) };
  } catch (error) {
    reply = { id: request.id, error: `${error?.code ?? ""} ${error?.message ?? String(error)}` };
  }
  process.send(reply);
  if (request.type === "close") process.disconnect();
});
// Losing the parent (a killed test run) must not leave this node behind.
process.on("disconnect", () => {
  rmSync(home, { recursive: true, force: true });
  process.exit(0);
});
process.send({ id: 0, uid: app.identity().identity.uid, linkCode: encodeLinkCode(app.identity().card) });
