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
import { mkdtempSync, openSync, readSync, rmSync } from "node:fs";
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
 * Whose stall it was. A 50 ms ticker notes each tick at least 100 ms late: how late it was, how
 * much of the time since the tick before the main thread ran, how much it waited for a core
 * while ready to run (the scheduler's run-queue time, from the thread's schedstat), and the
 * rest, off the CPU and not waiting for it (blocked in the kernel, a GC helper thread that
 * itself waits for a core, or the loop's idle wait before the stall began); of that, block I/O
 * when kernel.task_delayacct is on. The node's own work in a stall is its main thread's running
 * time: what would still hold its loop on a machine of its own. Kept: the five ticks that were
 * most late, and the one with the most own work.
 */
const TICK_MS = 50;
const stalls = [];
let mostOwnWork;
// Each file stays open and is re-read from offset 0: one system call per read, not four.
const procReader = (path) => {
  const fd = openSync(path, "r");
  const buffer = Buffer.alloc(4096);
  return () => buffer.toString("latin1", 0, readSync(fd, buffer, 0, buffer.length, 0));
};
const schedstat = procReader(`/proc/self/task/${process.pid}/schedstat`);
const stat = procReader(`/proc/self/task/${process.pid}/stat`);
const sample = () => {
  const [run, wait] = schedstat().split(" ");
  // Block-I/O delay of this thread, in clock ticks (10 ms); 0 unless kernel.task_delayacct is on.
  const ioTicks = Number(stat().split(") ")[1].split(" ")[39]);
  return { at: performance.now(), onCpuMs: Number(run) / 1e6, waitMs: Number(wait) / 1e6, ioMs: ioTicks * 10 };
};
let tick = sample();
const ticker = setInterval(() => {
  const now = sample();
  const lateMs = now.at - tick.at - TICK_MS;
  if (lateMs >= 100) {
    const onCpuMs = now.onCpuMs - tick.onCpuMs;
    const waitingForCpuMs = now.waitMs - tick.waitMs;
    const offCpuMs = Math.max(0, now.at - tick.at - onCpuMs - waitingForCpuMs);
    const stall = { lateMs: Math.round(lateMs), onCpuMs: Math.round(onCpuMs), waitingForCpuMs: Math.round(waitingForCpuMs), offCpuMs: Math.round(offCpuMs), ioMs: now.ioMs - tick.ioMs };
    if (stall.onCpuMs > (mostOwnWork?.onCpuMs ?? -1)) mostOwnWork = stall;
    stalls.push(stall);
    stalls.sort((x, y) => y.lateMs - x.lateMs);
    stalls.length = Math.min(stalls.length, 5);
  }
  tick = now;
}, TICK_MS);
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
    mostOwnWork = undefined;
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
    mostOwnWork: mostOwnWork ?? null,
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
