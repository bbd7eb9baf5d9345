// One-way messages/s of 100-byte messages, one write per message, each receiver in its own
// process (bench/peers/sink.js): our Noise channel (NetworkNode to NetworkNode), raw TCP
// (the ceiling: no framing, no crypto) and @hyperswarm/secret-stream (a peer transport),
// measured in rotating slices of the same count. libp2p 3.x needs Node >= 22 (tooling notes
// §7), so it is not measured on this Node 20 machine.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import SecretStream from "@hyperswarm/secret-stream";
import { silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, generateKeyPair, portOf } from "@jarvis/network/testing";
import { round0, round2 } from "./measure.js";

const SINK = fileURLToPath(new URL("./peers/sink.js", import.meta.url));
const PAYLOAD = Buffer.alloc(100, 7);

async function startSink(kind, perAck, clientKeyHex = "") {
  const child = spawn(process.execPath, [SINK, kind, String(perAck), clientKeyHex], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = await Promise.race([
    createInterface({ input: child.stdout })[Symbol.asyncIterator]().next().then((r) => [r.value]),
    new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`${kind} sink exited ${code}`)))),
  ]);
  return { child, ...JSON.parse(line) };
}

/** Resolves the waiter for the next ack each time onAck() is called. */
function acks() {
  let pending = [];
  return {
    next: () => new Promise((resolve) => pending.push(resolve)),
    onAck: () => pending.shift()?.(),
  };
}

function connected(address) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: portOf(address) }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once("error", reject);
  });
}

async function writeAll(stream, n) {
  for (let i = 0; i < n; i++) {
    if (!stream.write(PAYLOAD)) await new Promise((resolve) => stream.once("drain", resolve));
  }
}

async function tcpSender(address) {
  const socket = await connected(address);
  const ack = acks();
  socket.on("data", (chunk) => chunk.forEach(() => ack.onAck()));
  return { slice: async (n) => { const done = ack.next(); await writeAll(socket, n); await done; }, close: () => socket.destroy() };
}

async function secretStreamSender(address) {
  const stream = new SecretStream(true, await connected(address));
  const ack = acks();
  stream.on("data", () => ack.onAck());
  stream.on("error", () => {});
  await stream.opened;
  return { slice: async (n) => { const done = ack.next(); await writeAll(stream, n); await done; }, close: () => stream.destroy() };
}

async function jarvisSender(sinkKeyHex, address, keys) {
  const sinkKey = Buffer.from(sinkKeyHex, "hex");
  const node = new NetworkNode({ clock: systemClock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
  await node.configure({ privateKey: Buffer.from(keys.privateKey), listen: "127.0.0.1:0", allowed: [sinkKey] });
  const link = node.openLink();
  const ack = acks();
  const up = new Promise((resolve) => {
    void (async () => {
      for await (const event of link) {
        if (event.kind === "connected") resolve();
        if (event.kind === "frame") ack.onAck();
      }
    })();
  });
  node.dial(sinkKey, [address]);
  await up;
  return {
    slice: async (n) => {
      const done = ack.next();
      // send() resolves when the channel has room for more: the channel's own backpressure.
      for (let i = 0; i < n; i++) await node.send(sinkKey, PAYLOAD);
      await done;
    },
    close: () => node.close(),
  };
}

export async function oneWayTransports({ n, rounds }) {
  const keys = generateKeyPair();
  const sinks = [];
  const senders = {};
  try {
    const tcp = await startSink("tcp", n);
    sinks.push(tcp);
    const ss = await startSink("secret-stream", n);
    sinks.push(ss);
    const jv = await startSink("jarvis", n, Buffer.from(keys.publicKey).toString("hex"));
    sinks.push(jv);
    senders.rawTcp = await tcpSender(tcp.address);
    senders.secretStream = await secretStreamSender(ss.address);
    senders.jarvisNoise = await jarvisSender(jv.publicKey, jv.address, keys);
    const names = Object.keys(senders);
    const total = Object.fromEntries(names.map((name) => [name, 0]));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + round) % names.length];
        const start = process.hrtime.bigint();
        await senders[name].slice(n);
        total[name] += Number(process.hrtime.bigint() - start) / 1e9;
      }
    }
    const rate = (name) => (n * rounds) / total[name];
    return {
      figure: round0(rate("jarvisNoise")),
      unit: "one-way msgs/s, 100-byte messages, our Noise channel (NetworkNode to a NetworkNode in another process)",
      ceiling: round0(rate("rawTcp")),
      ceilingName: "raw TCP loopback, one write per message, receiver in another process",
      ratio: round2(rate("jarvisNoise") / rate("rawTcp")),
      secretStream: round0(rate("secretStream")),
      ratioToSecretStream: round2(rate("jarvisNoise") / rate("secretStream")),
      libp2p: "not measured: libp2p 3.x needs Node >= 22 (Promise.withResolvers); this machine runs Node 20",
      target: { ratioToSecretStream: 1.0 },
      messagesPerSlice: n,
    };
  } finally {
    for (const sender of Object.values(senders)) await sender.close();
    for (const sink of sinks) sink.child.kill();
  }
}
