// Handshakes/s over real TCP with the responder in its own process (bench/peers/sink.js):
// our XX handshake (RawNoisePeer, built from the node's own noise and framing modules, dialling
// a NetworkNode) against @hyperswarm/secret-stream (its XX over TCP), sequential and
// `concurrency` at a time, in rotating slices of the same count, plus the X25519 work of one
// handshake (2 keygen + 6 DH, bench/x25519.js) in this process as the CPU ceiling, and the same
// XX with a bare RawNoisePeer responder (no NetworkNode) to show what the node adds, and libp2p
// (TCP + noise + yamux: a new connection and stream per handshake, diallers in a process of
// their own, bench/libp2p-peers.js).
// Each handshake is counted when the initiator has the responder's first message on the new
// channel (a one-byte reply to a one-byte message), so both sides have finished it; that is
// the same extra round trip for both transports. Every connection is then closed.
import { connect } from "node:net";
import SecretStream from "@hyperswarm/secret-stream";
import { RawNoisePeer, generateKeyPair, portOf } from "@jarvis/network/testing";
import { chooseX25519, x25519HandshakeWork } from "./x25519.js";
import { rotateSlices, round0, round2 } from "./measure.js";
import { startSink } from "./senders.js";
import { libp2pSender, startLibp2pSink } from "./libp2p-peers.js";

const HELLO = Buffer.from([2]);
// Our node keeps one channel per peer key and drops a duplicate by tie-break, so the diallers
// cycle through more keys than are ever in flight at once: a key is reused long after its
// previous channel was closed. secret-stream has no such rule; it reuses one key pair.
const KEY_POOL = 64;

async function ourHandshake(address, keys) {
  const peer = await RawNoisePeer.dial(address, keys);
  try {
    peer.send(HELLO);
    await peer.waitForPayloads(1, 60_000);
  } finally {
    peer.destroy();
  }
}

async function secretStreamHandshake(address, keyPair) {
  const socket = connect({ host: "127.0.0.1", port: portOf(address) });
  socket.setNoDelay(true);
  const stream = new SecretStream(true, socket, { keyPair });
  try {
    await new Promise((resolve, reject) => {
      stream.once("data", resolve);
      stream.once("error", reject);
      stream.once("close", () => reject(new Error("secret-stream closed before its first message")));
      stream.write(HELLO);
    });
  } finally {
    stream.destroy();
  }
}

/** Runs `count` handshakes, `concurrency` at a time; returns the seconds taken. */
async function timed(count, concurrency, handshake) {
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < count) await handshake(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function handshakesAcrossProcesses({ n, rounds, concurrency = 10 }) {
  const keys = Array.from({ length: KEY_POOL }, () => generateKeyPair());
  const clientKeys = keys.map((k) => Buffer.from(k.publicKey).toString("hex")).join(",");
  const secretStreamKeys = SecretStream.keyPair();
  // The CPU ceiling's keygen and DH: the fastest node:crypto or libsodium candidates, timed here (short slices).
  const choice = await chooseX25519({ sliceMs: 50, rounds: 2 });
  const x25519Work = x25519HandshakeWork(choice);
  const sinks = [];
  let libp2p;
  try {
    const jarvis = await startSink("jarvis", 1, clientKeys);
    sinks.push(jarvis);
    const ss = await startSink("secret-stream", 1);
    sinks.push(ss);
    const raw = await startSink("raw-noise", 1);
    sinks.push(raw);
    const libp2pSink = await startLibp2pSink(1);
    sinks.push(libp2pSink);
    libp2p = await libp2pSender(libp2pSink.address);
    await libp2p.addDiallers(concurrency);
    const timedRequest = (request) => async () => {
      const start = process.hrtime.bigint();
      await request();
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
    const overLibp2p = (parallel) => ({ sink: libp2pSink, run: timedRequest(() => libp2p.handshakes(n, parallel)) });
    const ours = (sink, parallel) => ({ sink, run: () => timed(n, parallel, (i) => ourHandshake(sink.address, keys[i % KEY_POOL])) });
    const theirs = (parallel) => ({ sink: ss, run: () => timed(n, parallel, () => secretStreamHandshake(ss.address, secretStreamKeys)) });
    const kinds = {
      jarvisSequential: ours(jarvis, 1),
      secretStreamSequential: theirs(1),
      jarvisConcurrent: ours(jarvis, concurrency),
      secretStreamConcurrent: theirs(concurrency),
      rawNoiseSequential: ours(raw, 1),
      rawNoiseConcurrent: ours(raw, concurrency),
      libp2pSequential: overLibp2p(1),
      libp2pConcurrent: overLibp2p(concurrency),
      x25519: { run: () => timed(n, 1, async () => x25519Work.run()) },
    };
    const { seconds, sinkMicros: responderMicros } = await rotateSlices(kinds, rounds);
    const responderUs = (name) => round0(responderMicros[name] / (n * rounds));
    const rate = (name) => (n * rounds) / seconds[name];
    return {
      figure: round0(rate("jarvisSequential")),
      unit: "XX handshakes/s over TCP, sequential: RawNoisePeer dialling a NetworkNode in another process, until its first reply",
      ceiling: round0(rate("secretStreamSequential")),
      ceilingName: "@hyperswarm/secret-stream handshakes/s over TCP, sequential, responder in another process, until its first reply",
      ratio: round2(rate("jarvisSequential") / rate("secretStreamSequential")),
      concurrent: {
        concurrency,
        figure: round0(rate("jarvisConcurrent")),
        secretStream: round0(rate("secretStreamConcurrent")),
        ratio: round2(rate("jarvisConcurrent") / rate("secretStreamConcurrent")),
        rawNoiseResponder: round0(rate("rawNoiseConcurrent")),
        libp2p: round0(rate("libp2pConcurrent")),
        ratioToLibp2p: round2(rate("jarvisConcurrent") / rate("libp2pConcurrent")),
      },
      libp2p: round0(rate("libp2pSequential")),
      libp2pName: "libp2p (TCP + @chainsafe/libp2p-noise XX + yamux) handshakes/s: dial a new connection, open a stream, one byte each way, abort; responder in another process",
      ratioToLibp2p: round2(rate("jarvisSequential") / rate("libp2pSequential")),
      rawNoiseResponder: round0(rate("rawNoiseSequential")),
      rawNoiseResponderName: "the same XX and framing with a bare RawNoisePeer as the responder (no NetworkNode around it): what the node adds",
      responderCpuMicrosPerHandshake: {
        ours: responderUs("jarvisSequential"),
        secretStream: responderUs("secretStreamSequential"),
        rawNoise: responderUs("rawNoiseSequential"),
        oursConcurrent: responderUs("jarvisConcurrent"),
        secretStreamConcurrent: responderUs("secretStreamConcurrent"),
        rawNoiseConcurrent: responderUs("rawNoiseConcurrent"),
        libp2p: responderUs("libp2pSequential"),
        libp2pConcurrent: responderUs("libp2pConcurrent"),
      },
      x25519PerSecond: round0(rate("x25519")),
      x25519Name: `X25519 work of one handshake (2 keygen + 6 DH) per second, in the bench process: keygen ${choice.keygen}, DH on ${choice.dh} (bench/x25519.js)`,
      ratioToX25519: round2(rate("jarvisSequential") / rate("x25519")),
      handshakesPerSlice: n,
      target: { ratio: 1.0, concurrentRatio: 1.0 },
    };
  } finally {
    libp2p?.close();
    for (const sink of sinks) sink.child.kill();
  }
}
