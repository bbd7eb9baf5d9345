// Many channels into one network service: a NetworkNode in its own process (bench/peers/hub.js)
// and `count` peers driven by a load-generator process (bench/peers/channel-generator.js)
// speaking the real protocol (RawNoisePeer: TCP, Noise XX, framing), so the hub's, the
// generator's and the bench's CPU and memory are separate. Reports the time until the hub has
// every channel up, its memory per channel, and the time for `perPeer` messages from every peer
// to arrive. The reference is the same number of plain TCP connections from the same generator
// into a plain net.Server process, measured just before in the same run.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { round0, round2 } from "./measure.js";

const HUB = fileURLToPath(new URL("./peers/hub.js", import.meta.url));
const GENERATOR = fileURLToPath(new URL("./peers/channel-generator.js", import.meta.url));
// The hub admits 16 handshakes at once from one address (design §4) and all peers are
// 127.0.0.1. A dialler finishes before the hub has read its last handshake message, so 16
// diallers can exceed the hub's count; 8 stay under it.
const DIAL_CONCURRENCY = 8;

/** A child process answering one JSON line on stdout for each line written to its stdin. */
function lineChild(script, args) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`${script} exited ${code}`))));
  exited.catch(() => {});
  const next = async () => JSON.parse((await Promise.race([lines.next(), exited])).value);
  return {
    child,
    next,
    async ask(line) {
      child.stdin.write(line + "\n");
      return next();
    },
    close: () => child.kill(),
  };
}

async function startHub(kind, publicKeys) {
  const hub = lineChild(HUB, [kind]);
  if (kind === "jarvis") hub.child.stdin.write(JSON.stringify(publicKeys) + "\n");
  const info = await hub.next();
  return {
    ...info,
    stats: () => hub.ask("stats"),
    /** Polls the hub until check(stats) holds; returns the seconds since `start`. */
    async until(check, start) {
      for (;;) {
        if (check(await this.stats())) return Number(process.hrtime.bigint() - start) / 1e9;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: hub.close,
  };
}

async function run(kind, count, perPeer) {
  const generator = lineChild(GENERATOR, [kind, String(count)]);
  let hub;
  try {
    const { publicKeys } = await generator.next();
    hub = await startHub(kind, publicKeys);
    const idle = await hub.stats();
    let start = process.hrtime.bigint();
    const dialled = await generator.ask(JSON.stringify({ dial: hub.address, concurrency: DIAL_CONCURRENCY }));
    const establishSeconds = await hub.until((s) => s.connected >= count, start);
    const loaded = await hub.stats();
    start = process.hrtime.bigint();
    await generator.ask(JSON.stringify({ send: perPeer }));
    const flowSeconds = await hub.until((s) => s.frames >= count * perPeer, start);
    const after = await hub.stats();
    return { idle, loaded, after, establishSeconds, flowSeconds, retries: dialled.retries, dialSeconds: dialled.seconds };
  } finally {
    generator.child.stdin.write(JSON.stringify({ close: true }) + "\n");
    hub?.close();
  }
}

export async function manyChannels({ count, perPeer }) {
  const tcp = await run("tcp", count, perPeer);
  const jarvis = await run("jarvis", count, perPeer);
  return {
    figure: round0(count / jarvis.establishSeconds),
    unit: `channels/s: ${count} peers from a load-generator process, dialled ${DIAL_CONCURRENCY} at a time until the hub process reports every one connected (TCP + Noise XX)`,
    ceiling: round0(count / tcp.establishSeconds),
    ceilingName: "plain TCP connections/s from the same generator into a plain net.Server process, same count and concurrency",
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
