// One-way messages/s of 100-byte messages, one write per message, each receiver in its own
// process (bench/peers/sink.js): our Noise channel (NetworkNode to NetworkNode), raw TCP
// (the ceiling: no framing, no crypto) and @hyperswarm/secret-stream (a peer transport),
// measured in rotating slices of the same count, and libp2p (TCP + noise + yamux, sender and
// receiver each in a process of its own: libp2p-peers.js).
import { round0, round2 } from "./measure.js";
import { rotateTransports } from "./senders.js";

const PAYLOAD = Buffer.alloc(100, 7);

/** One slice: n messages one way, timed until the sink's ack for the last of them. */
async function oneWaySlice(sender, n) {
  // A sender in another process (libp2p) runs this same loop there.
  if (sender.oneWaySlice) return sender.oneWaySlice(n);
  const done = sender.acks.next();
  for (let i = 0; i < n; i++) {
    // Stream writes return nothing until the stream is full: no await (and no microtask) then.
    const room = sender.send(PAYLOAD);
    if (room) await room;
  }
  await done;
}

export async function oneWayTransports({ n, rounds }) {
  const r = await rotateTransports({ n, rounds, perAck: n, slice: (sender) => oneWaySlice(sender, n), withLibp2p: true });
  const rate = (name) => r.perSecond[name];
  return {
    figure: round0(rate("jarvisNoise")),
    unit: "one-way msgs/s, 100-byte messages, our Noise channel (NetworkNode to a NetworkNode in another process)",
    ceiling: round0(rate("rawTcp")),
    ceilingName: "raw TCP loopback, one write per message, receiver in another process",
    ratio: round2(rate("jarvisNoise") / rate("rawTcp")),
    secretStream: round0(rate("secretStream")),
    ratioToSecretStream: round2(rate("jarvisNoise") / rate("secretStream")),
    libp2p: round0(rate("libp2p")),
    libp2pStack: "libp2p 3.3.11, @libp2p/tcp, @chainsafe/libp2p-noise 17, @chainsafe/libp2p-yamux 8: one yamux stream, sender in its own process",
    ratioToLibp2p: round2(rate("jarvisNoise") / rate("libp2p")),
    receiverCpuMicrosPerMessage: r.receiverCpuMicrosPerMessage,
    target: { ratioToSecretStream: 1.0, ratioToLibp2p: 2.0 },
    messagesPerSlice: n,
  };
}
