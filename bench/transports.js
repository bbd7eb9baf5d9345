// One-way messages/s of 100-byte messages, one write per message, each receiver in its own
// process (bench/peers/sink.js): our Noise channel (NetworkNode to NetworkNode), raw TCP
// (the ceiling: no framing, no crypto) and @hyperswarm/secret-stream (a peer transport),
// measured in rotating slices of the same count. libp2p 3.x needs Node >= 22 (tooling notes
// §7), so it is not measured on this Node 20 machine.
import { round0, round2 } from "./measure.js";
import { rotateTransports } from "./senders.js";

const PAYLOAD = Buffer.alloc(100, 7);

/** One slice: n messages one way, timed until the sink's ack for the last of them. */
async function oneWaySlice(sender, n) {
  const done = sender.acks.next();
  for (let i = 0; i < n; i++) {
    // Stream writes return nothing until the stream is full: no await (and no microtask) then.
    const room = sender.send(PAYLOAD);
    if (room) await room;
  }
  await done;
}

export async function oneWayTransports({ n, rounds }) {
  const r = await rotateTransports({ n, rounds, perAck: n, slice: (sender) => oneWaySlice(sender, n) });
  const rate = (name) => r.perSecond[name];
  return {
    figure: round0(rate("jarvisNoise")),
    unit: "one-way msgs/s, 100-byte messages, our Noise channel (NetworkNode to a NetworkNode in another process)",
    ceiling: round0(rate("rawTcp")),
    ceilingName: "raw TCP loopback, one write per message, receiver in another process",
    ratio: round2(rate("jarvisNoise") / rate("rawTcp")),
    secretStream: round0(rate("secretStream")),
    ratioToSecretStream: round2(rate("jarvisNoise") / rate("secretStream")),
    libp2p: "not measured: libp2p 3.x needs Node >= 22 (Promise.withResolvers); this machine runs Node 20",
    receiverCpuMicrosPerMessage: r.receiverCpuMicrosPerMessage,
    target: { ratioToSecretStream: 1.0 },
    messagesPerSlice: n,
  };
}
