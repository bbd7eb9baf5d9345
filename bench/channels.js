// Many channels into one network service: a NetworkNode in its own process (bench/peers/hub.js)
// and `count` peers from this process speaking the real protocol (RawNoisePeer: TCP, Noise XX,
// framing). Reports the time until the hub has every channel up, its memory per channel, and
// the time for `perPeer` messages from every peer to arrive. The reference is the same number
// of plain TCP connections into a plain net.Server process, measured just before.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { retry, systemClock } from "@jarvis/core";
import { RawNoisePeer, connectRaw, generateKeyPair } from "@jarvis/network/testing";
import { round0, round2 } from "./measure.js";

const HUB = fileURLToPath(new URL("./peers/hub.js", import.meta.url));
// The hub admits 16 handshakes at once from one address (design §4) and all peers are
// 127.0.0.1. A dialler finishes before the hub has read its last handshake message, so 16
// diallers can exceed the hub's count; 8 stay under it. A refused or timed-out dial (a loaded
// machine) is retried with backoff and counted.
const DIAL_CONCURRENCY = 8;
const DIAL_RETRY = { policy: { baseMs: 50, factor: 2, capMs: 1000 }, maxAttempts: 10 };
const PAYLOAD = Buffer.alloc(100, 3);

async function startHub(kind, allowed) {
  const child = spawn(process.execPath, [HUB, kind], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  if (kind === "jarvis") child.stdin.write(JSON.stringify(allowed.map((k) => Buffer.from(k.publicKey).toString("hex"))) + "\n");
  const info = JSON.parse((await lines.next()).value);
  return {
    ...info,
    async stats() {
      child.stdin.write("stats\n");
      return JSON.parse((await lines.next()).value);
    },
    /** Polls the hub until check(stats) holds; returns the seconds since `start`. */
    async until(check, start) {
      for (;;) {
        if (check(await this.stats())) return Number(process.hrtime.bigint() - start) / 1e9;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => child.kill(),
  };
}

async function inParallel(count, concurrency, fn) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

async function run(kind, keys, perPeer) {
  const count = keys.length;
  const hub = await startHub(kind, keys);
  const peers = [];
  try {
    const idle = await hub.stats();
    let start = process.hrtime.bigint();
    let retries = 0;
    const dial = (i) => (kind === "jarvis" ? RawNoisePeer.dial(hub.address, keys[i]) : connectRaw(hub.address));
    const dialled = await inParallel(count, DIAL_CONCURRENCY, async (i) => {
      const peer = await retry(() => dial(i), { ...DIAL_RETRY, clock: systemClock, onRetry: () => retries++ });
      peers.push(peer);
      return peer;
    });
    const establishSeconds = await hub.until((s) => s.connected >= count, start);
    const loaded = await hub.stats();
    start = process.hrtime.bigint();
    const send = kind === "jarvis" ? (peer) => peer.send(PAYLOAD) : (socket) => socket.write(PAYLOAD);
    for (let k = 0; k < perPeer; k++) for (const peer of dialled) send(peer);
    const flowSeconds = await hub.until((s) => s.frames >= count * perPeer, start);
    const after = await hub.stats();
    return { idle, loaded, after, establishSeconds, flowSeconds, retries };
  } finally {
    for (const peer of peers) peer.destroy();
    hub.close();
  }
}

export async function manyChannels({ count, perPeer }) {
  const keys = Array.from({ length: count }, () => generateKeyPair());
  const tcp = await run("tcp", keys, perPeer);
  const jarvis = await run("jarvis", keys, perPeer);
  return {
    figure: round0(count / jarvis.establishSeconds),
    unit: `channels/s: ${count} peers dialled ${DIAL_CONCURRENCY} at a time until the hub reports every one connected (TCP + Noise XX)`,
    ceiling: round0(count / tcp.establishSeconds),
    ceilingName: `plain TCP connections/s into a plain net.Server process, same count and concurrency`,
    ratio: round2(tcp.establishSeconds / jarvis.establishSeconds),
    channels: count,
    establishMs: round0(jarvis.establishSeconds * 1000),
    dialRetries: jarvis.retries,
    hubRssMB: { idle: jarvis.idle.rssMB, allConnected: jarvis.loaded.rssMB, afterMessages: jarvis.after.rssMB, peak: jarvis.after.peakMB },
    kBPerChannel: round2(((jarvis.loaded.rssMB - jarvis.idle.rssMB) * 1024) / count),
    messages: { perPeer, total: count * perPeer, seconds: round2(jarvis.flowSeconds), perSecond: round0((count * perPeer) / jarvis.flowSeconds) },
    plainTcp: { dialRetries: tcp.retries, establishMs: round0(tcp.establishSeconds * 1000), kBPerConnection: round2(((tcp.loaded.rssMB - tcp.idle.rssMB) * 1024) / count), rssMB: tcp.after.rssMB, messagesPerSecond: round0((count * perPeer) / tcp.flowSeconds) },
    target: { channels: 1000, maxRssMB: 300 },
  };
}
