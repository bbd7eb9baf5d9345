// The sending ends of the transport scenarios, each talking to a receiver in its own process
// (bench/peers/sink.js): raw TCP, @hyperswarm/secret-stream, and our Noise channel
// (NetworkNode to NetworkNode). Each sender has send(payload), which resolves when the
// transport has room for more (its own backpressure), and acks.next(), which resolves on the
// sink's next ack.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import SecretStream from "@hyperswarm/secret-stream";
import { silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, generateKeyPair, portOf } from "@jarvis/network/testing";
import { rotateSlices } from "./measure.js";

const SINK = fileURLToPath(new URL("./peers/sink.js", import.meta.url));

/**
 * Starts a receiving peer (bench/peers/sink.js) and waits for its { address, publicKey? } line.
 * cpuMicros() asks it for its own CPU time so far (user + system, µs).
 */
export async function startSink(kind, perAck, clientKeyHex = "") {
  const child = spawn(process.execPath, [SINK, kind, String(perAck), clientKeyHex], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`${kind} sink exited ${code}`))));
  exited.catch(() => {});
  const next = async () => JSON.parse((await Promise.race([lines.next(), exited])).value);
  const info = await next();
  return {
    child,
    ...info,
    async cpuMicros() {
      child.stdin.write("cpu\n");
      return (await next()).cpuMicros;
    },
  };
}

/** Resolves the waiter for the next ack each time onAck() is called; counts unclaimed acks. */
function acks() {
  const pending = [];
  let early = 0;
  return {
    next: () => {
      if (early > 0) {
        early--;
        return Promise.resolve();
      }
      return new Promise((resolve) => pending.push(resolve));
    },
    onAck: () => {
      const wake = pending.shift();
      if (wake) wake();
      else early++;
    },
  };
}

function connected(address) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: portOf(address) }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once("error", reject);
  });
}

function streamSend(stream) {
  return (payload) => (stream.write(payload) ? undefined : new Promise((resolve) => stream.once("drain", resolve)));
}

export async function tcpSender(address) {
  const socket = await connected(address);
  const ack = acks();
  // The sink acks with single bytes: a byte is an ack, whatever the segmenting.
  socket.on("data", (chunk) => chunk.forEach(() => ack.onAck()));
  return { send: streamSend(socket), acks: ack, close: () => socket.destroy() };
}

export async function secretStreamSender(address) {
  const stream = new SecretStream(true, await connected(address));
  const ack = acks();
  stream.on("data", () => ack.onAck());
  stream.on("error", () => {});
  await stream.opened;
  return { send: streamSend(stream), acks: ack, close: () => stream.destroy() };
}

export async function jarvisSender(sinkKeyHex, address, keys) {
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
  // send() resolves when the channel has room for more: the channel's own backpressure.
  return { send: (payload) => node.send(sinkKey, payload), acks: ack, close: () => node.close() };
}

/**
 * Starts the three receivers (sink.js, acking every `perAck` messages) and a sender to each,
 * then runs `slice(sender)` (n messages) for each in rotating order, `rounds` times. Returns
 * each transport's messages/s and the receiver process's CPU µs per message over its slices
 * (which, unlike the rate, does not depend on how much of a loaded machine the processes got).
 */
export async function rotateTransports({ n, rounds, perAck, slice }) {
  const keys = generateKeyPair();
  const sinks = {};
  const senders = {};
  try {
    sinks.rawTcp = await startSink("tcp", perAck);
    sinks.secretStream = await startSink("secret-stream", perAck);
    sinks.jarvisNoise = await startSink("jarvis", perAck, Buffer.from(keys.publicKey).toString("hex"));
    senders.rawTcp = await tcpSender(sinks.rawTcp.address);
    senders.secretStream = await secretStreamSender(sinks.secretStream.address);
    senders.jarvisNoise = await jarvisSender(sinks.jarvisNoise.publicKey, sinks.jarvisNoise.address, keys);
    const names = Object.keys(senders);
    const timedSlice = (name) => async () => {
      const start = process.hrtime.bigint();
      await slice(senders[name]);
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
    const { seconds, sinkMicros: micros } = await rotateSlices(Object.fromEntries(names.map((name) => [name, { sink: sinks[name], run: timedSlice(name) }])), rounds);
    const each = (f) => Object.fromEntries(names.map((name) => [name, f(name)]));
    return {
      perSecond: each((name) => (n * rounds) / seconds[name]),
      receiverCpuMicrosPerMessage: each((name) => Number((micros[name] / (n * rounds)).toPrecision(3))),
    };
  } finally {
    for (const sender of Object.values(senders)) await sender.close();
    for (const sink of Object.values(sinks)) sink.child.kill();
  }
}
