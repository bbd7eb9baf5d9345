// Pipelined round trips/s: a 100-byte message out, a one-byte reply back, with `window`
// messages in flight at once, the replier in its own process (bench/peers/sink.js acking every
// message). Our Noise channel (NetworkNode to NetworkNode) against @hyperswarm/secret-stream
// and raw TCP (the ceiling), in rotating slices of the same count, same run.
import { generateKeyPair } from "@jarvis/network/testing";
import { round0, round2 } from "./measure.js";
import { jarvisSender, secretStreamSender, startSink, tcpSender } from "./senders.js";

const PAYLOAD = Buffer.alloc(100, 5);

/** n round trips with at most `window` unanswered; resolves on the n-th reply. */
async function pipelinedSlice(sender, n, window) {
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
  const keys = generateKeyPair();
  const sinks = [];
  const senders = {};
  try {
    const tcp = await startSink("tcp", 1);
    sinks.push(tcp);
    const ss = await startSink("secret-stream", 1);
    sinks.push(ss);
    const jv = await startSink("jarvis", 1, Buffer.from(keys.publicKey).toString("hex"));
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
        await pipelinedSlice(senders[name], n, window);
        total[name] += Number(process.hrtime.bigint() - start) / 1e9;
      }
    }
    const rate = (name) => (n * rounds) / total[name];
    return {
      figure: round0(rate("jarvisNoise")),
      unit: `pipelined round trips/s (100 bytes out, 1 byte back, ${window} in flight), our Noise channel, replier in another process`,
      ceiling: round0(rate("rawTcp")),
      ceilingName: "raw TCP loopback, same pattern, replier in another process",
      ratio: round2(rate("jarvisNoise") / rate("rawTcp")),
      secretStream: round0(rate("secretStream")),
      ratioToSecretStream: round2(rate("jarvisNoise") / rate("secretStream")),
      window,
      roundTripsPerSlice: n,
      target: { ratioToSecretStream: 1.0 },
    };
  } finally {
    for (const sender of Object.values(senders)) await sender.close();
    for (const sink of sinks) sink.child.kill();
  }
}
