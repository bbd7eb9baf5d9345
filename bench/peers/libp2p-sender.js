#!/usr/bin/env node
// The libp2p sending peer for the one-way and round-trip scenarios, in its own process (libp2p needs
// the Promise.withResolvers polyfill, which stays out of the bench process that hosts our node):
//   node --import ./with-resolvers.js libp2p-sender.js <sink-multiaddr>
// Dials the sink, opens one yamux stream of ONE_WAY_PROTOCOL and prints {"ready":true}. Each
// stdin line runs one slice with the same loop as the in-process senders (bench/transports.js,
// bench/round-trips.js) and answers {"done":true}: "one-way <n>" sends n 100-byte messages, one
// send() each, waiting for 'drain' only when send() says the stream is full, then waits for the
// sink's ack for the last of them; "round-trips <n> <window>" keeps `window` messages
// unanswered until n acks have come (the sink then acks every message). "cpu" answers its CPU
// time so far.
import { createInterface } from "node:readline";
import { multiaddr } from "@multiformats/multiaddr";
import { MESSAGE_BYTES, ONE_WAY_PROTOCOL, byteLength, libp2pNode } from "./libp2p-node.js";

const PAYLOAD = new Uint8Array(MESSAGE_BYTES).fill(7);

function announce(info) {
  process.stdout.write(JSON.stringify(info) + "\n");
}

const node = await libp2pNode();
const stream = await node.dialProtocol(multiaddr(process.argv[2]), ONE_WAY_PROTOCOL);
let unclaimedAcks = 0;
let ackWaiter;
// The sink acks with single bytes: a byte is an ack, whatever the segmenting.
stream.addEventListener("message", (event) => {
  unclaimedAcks += byteLength(event.data);
  if (ackWaiter && unclaimedAcks > 0) {
    unclaimedAcks--;
    const wake = ackWaiter;
    ackWaiter = undefined;
    wake();
  }
});
const nextAck = () =>
  unclaimedAcks > 0 ? (unclaimedAcks--, Promise.resolve()) : new Promise((resolve) => (ackWaiter = resolve));

const sendOne = async () => {
  if (!stream.send(PAYLOAD)) await stream.onDrain();
};

async function oneWaySlice(n) {
  const done = nextAck();
  for (let i = 0; i < n; i++) if (!stream.send(PAYLOAD)) await stream.onDrain();
  await done;
}

async function pipelinedSlice(n, window) {
  let sent = 0;
  for (; sent < Math.min(window, n); sent++) await sendOne();
  for (let replies = 0; replies < n; replies++) {
    await nextAck();
    if (sent < n) {
      sent++;
      await sendOne();
    }
  }
}

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line === "cpu") {
    const { user, system } = process.cpuUsage();
    announce({ cpuMicros: user + system });
    return;
  }
  const [kind, n, window] = line.split(" ");
  const slice = kind === "one-way" ? oneWaySlice(Number(n)) : pipelinedSlice(Number(n), Number(window));
  void slice.then(() => announce({ done: true }));
});
commands.on("close", () => process.exit(0));
announce({ ready: true });
