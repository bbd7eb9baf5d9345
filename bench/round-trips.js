// Pipelined round trips/s: a 100-byte message out, a one-byte reply back, with `window`
// messages in flight at once, the replier in its own process (bench/peers/sink.js acking every
// message). Our Noise channel (NetworkNode to NetworkNode) against @hyperswarm/secret-stream,
// raw TCP (the ceiling) and libp2p (TCP + noise + yamux, sender and replier each in a process of
// its own: libp2p-peers.js), in rotating slices of the same count, same run.
import { round0, round2 } from "./measure.js";
import { rotateTransports } from "./senders.js";

const PAYLOAD = Buffer.alloc(100, 5);

/** n round trips with at most `window` unanswered; resolves on the n-th reply. */
async function pipelinedSlice(sender, n, window) {
  // A sender in another process (libp2p) runs this same loop there.
  if (sender.pipelinedSlice) return sender.pipelinedSlice(n, window);
  let sent = 0;
  const sendOne = async () => {
    sent++;
    const room = sender.send(PAYLOAD);
    if (room) await room;
  };
  const first = Math.min(window, n);
  for (let i = 0; i < first; i++) await sendOne();
  for (let replies = 0; replies < n; replies++) {
    await sender.acks.next();
    if (sent < n) await sendOne();
  }
}

export async function pipelinedRoundTrips({ n, rounds, window = 16 }) {
  const r = await rotateTransports({ n, rounds, perAck: 1, slice: (sender) => pipelinedSlice(sender, n, window), withLibp2p: true });
  const rate = (name) => r.perSecond[name];
  return {
    figure: round0(rate("jarvisNoise")),
    unit: `pipelined round trips/s (100 bytes out, 1 byte back, ${window} in flight), our Noise channel, replier in another process`,
    ceiling: round0(rate("rawTcp")),
    ceilingName: "raw TCP loopback, same pattern, replier in another process",
    ratio: round2(rate("jarvisNoise") / rate("rawTcp")),
    secretStream: round0(rate("secretStream")),
    ratioToSecretStream: round2(rate("jarvisNoise") / rate("secretStream")),
    libp2p: round0(rate("libp2p")),
    ratioToLibp2p: round2(rate("jarvisNoise") / rate("libp2p")),
    window,
    roundTripsPerSlice: n,
    receiverCpuMicrosPerMessage: r.receiverCpuMicrosPerMessage,
    target: { ratioToSecretStream: 1.0 },
  };
}
