#!/usr/bin/env node
// The libp2p receiving peer for the one-way and round-trip scenarios, in its own process:
//   node --import ./with-resolvers.js libp2p-sink.js <messages-per-ack>
// Speaks the same stdin/stdout protocol as sink.js: prints one JSON line ({ address }, a
// multiaddr with the peer id) and answers each stdin line with its CPU time so far. On each
// yamux stream of ONE_WAY_PROTOCOL it counts the 100-byte messages and sends a 1-byte ack each
// time another <messages-per-ack> have arrived (with 1, it is the replier of the round trips);
// on each stream of HELLO_PROTOCOL it answers every message with one byte (handshakes).
// Framing: messages are fixed-size, so, as for raw TCP, a byte count is a message count and
// there is no application length prefix. The sender hands each 100-byte message to
// stream.send() once; while the connection has room, yamux sends it at once as one DATA frame
// (a 12-byte header carrying the length) inside a Noise transport message. When send() says
// the stream is full, libp2p keeps the bytes and later sends what it holds in larger frames:
// its own backpressure, as a TCP socket's buffer is for raw TCP.
import { createInterface } from "node:readline";
import { HELLO_PROTOCOL, MESSAGE_BYTES, ONE_WAY_PROTOCOL, byteLength, libp2pNode } from "./libp2p-node.js";

const perAck = Number(process.argv[2]);
const ACK = Uint8Array.of(1);

function announce(info) {
  process.stdout.write(JSON.stringify(info) + "\n");
}

const node = await libp2pNode("/ip4/127.0.0.1/tcp/0");
await node.handle(ONE_WAY_PROTOCOL, (stream) => {
  let bytes = 0;
  let count = 0;
  stream.addEventListener("message", (event) => {
    bytes += byteLength(event.data);
    while (bytes >= (count + 1) * MESSAGE_BYTES) if (++count % perAck === 0) stream.send(ACK);
  });
});
// The handshake scenarios: each message on a HELLO_PROTOCOL stream gets a one-byte reply.
await node.handle(HELLO_PROTOCOL, (stream) => {
  stream.addEventListener("message", () => stream.send(ACK));
});

const commands = createInterface({ input: process.stdin });
commands.on("line", () => {
  const { user, system } = process.cpuUsage();
  announce({ cpuMicros: user + system });
});
// stdin closing (the bench gone) ends the process.
commands.on("close", () => process.exit(0));
announce({ address: node.getMultiaddrs()[0].toString() });
