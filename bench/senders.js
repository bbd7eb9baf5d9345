// The sending ends of the transport scenarios, each talking to a receiver in its own process
// (bench/peers/sink.js): raw TCP, @hyperswarm/secret-stream, and our Noise channel
// (NetworkNode to NetworkNode); libp2p's sender runs in a process of its own (libp2p-peers.js). Each sender has send(payload), which resolves when the
// transport has room for more (its own backpressure), and acks.next(), which resolves on the
// sink's next ack.
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import SecretStream from "@hyperswarm/secret-stream";
import { silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, generateKeyPair, portOf } from "@jarvis/network/testing";
import { startLibp2pSink, libp2pSender } from "./libp2p-peers.js";
import { acks } from "./acks.js";
import { rotateSlices } from "./measure.js";
import { startPeer } from "./peer-process.js";

const SINK = fileURLToPath(new URL("./peers/sink.js", import.meta.url));

/** Starts a receiving peer (bench/peers/sink.js) and waits for its { address, publicKey? } line. */
export function startSink(kind, perAck, clientKeyHex = "") {
  return startPeer([SINK, kind, String(perAck), clientKeyHex], `${kind} sink`);
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
 * Starts the three receivers (sink.js, acking every `perAck` messages; with `withLibp2p`, also
 * libp2p-sink.js) and a sender to each,
 * then runs `slice(sender)` (n messages) for each in rotating order, `rounds` times. Returns
 * each transport's messages/s and the receiver process's CPU µs per message over its slices
 * (which, unlike the rate, does not depend on how much of a loaded machine the processes got).
 */
export async function rotateTransports({ n, rounds, perAck, slice, withLibp2p = false }) {
  const keys = generateKeyPair();
  const sinks = {};
  const senders = {};
  try {
    sinks.rawTcp = await startSink("tcp", perAck);
    sinks.secretStream = await startSink("secret-stream", perAck);
    sinks.jarvisNoise = await startSink("jarvis", perAck, Buffer.from(keys.publicKey).toString("hex"));
    if (withLibp2p) sinks.libp2p = await startLibp2pSink(perAck);
    senders.rawTcp = await tcpSender(sinks.rawTcp.address);
    senders.secretStream = await secretStreamSender(sinks.secretStream.address);
    senders.jarvisNoise = await jarvisSender(sinks.jarvisNoise.publicKey, sinks.jarvisNoise.address, keys);
    if (withLibp2p) senders.libp2p = await libp2pSender(sinks.libp2p.address);
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
