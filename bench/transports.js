// One-way messages/s of 100-byte messages, one write per message, each receiver in its own
// process (bench/peers/sink.js): our Noise channel (NetworkNode to NetworkNode), raw TCP
// (the ceiling: no framing, no crypto) and @hyperswarm/secret-stream (a peer transport),
// measured in rotating slices of the same count. libp2p 3.x needs Node >= 22 (tooling notes
// §7), so it is not measured on this Node 20 machine.
import { generateKeyPair } from "@jarvis/network/testing";
import { round0, round2 } from "./measure.js";
import { jarvisSender, secretStreamSender, startSink, tcpSender } from "./senders.js";

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
        await oneWaySlice(senders[name], n);
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
