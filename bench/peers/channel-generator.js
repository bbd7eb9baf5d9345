#!/usr/bin/env node
// The load generator of the many-channels scenario, in its own process so that its CPU and
// memory are not the hub's nor the bench's:
//   node channel-generator.js jarvis|tcp <count>
// jarvis: `count` peers speaking the real protocol (RawNoisePeer: TCP + Noise XX + framing);
// tcp: `count` plain TCP connections. Prints one JSON line { publicKeys } (hex; empty for tcp),
// then answers each JSON line on stdin with one JSON line:
//   { "dial": address, "concurrency": c } -> { dialled, retries, seconds }
//   { "send": perPeer }                   -> { sent }   (100-byte payloads, every peer)
//   { "close": true }                     -> exits after destroying every connection
import { createInterface } from "node:readline";
import { retry, systemClock } from "@jarvis/core";
import { RawNoisePeer, connectRaw, generateKeyPair } from "@jarvis/network/testing";

const [kind, countArg] = process.argv.slice(2);
const count = Number(countArg);
const PAYLOAD = Buffer.alloc(100, 3);
// A refused or timed-out dial (a loaded machine, the hub's pending-handshake cap) is retried
// with backoff and counted.
const DIAL_RETRY = { policy: { baseMs: 50, factor: 2, capMs: 1000 }, maxAttempts: 10 };

const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const keys = kind === "jarvis" ? Array.from({ length: count }, () => generateKeyPair()) : [];
const peers = [];

async function dialAll(address, concurrency) {
  const start = process.hrtime.bigint();
  let retries = 0;
  let next = 0;
  const dial = (i) => (kind === "jarvis" ? RawNoisePeer.dial(address, keys[i]) : connectRaw(address));
  const worker = async () => {
    while (next < count) {
      const i = next++;
      peers.push(await retry(() => dial(i), { ...DIAL_RETRY, clock: systemClock, onRetry: () => retries++ }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { dialled: peers.length, retries, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function sendAll(perPeer) {
  const send = kind === "jarvis" ? (peer) => peer.send(PAYLOAD) : (socket) => socket.write(PAYLOAD);
  for (let k = 0; k < perPeer; k++) for (const peer of peers) send(peer);
  return { sent: perPeer * peers.length };
}

print({ publicKeys: keys.map((k) => Buffer.from(k.publicKey).toString("hex")) });
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  if (command.dial) print(await dialAll(command.dial, command.concurrency));
  else if (command.send !== undefined) print(sendAll(command.send));
  else if (command.close) break;
}
for (const peer of peers) peer.destroy();
process.exit(0);
