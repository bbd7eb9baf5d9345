#!/usr/bin/env node
// The libp2p sending peer for the one-way and round-trip scenarios, in its own process (libp2p needs
// the Promise.withResolvers polyfill, which stays out of the bench process that hosts our node):
//   node --import ./with-resolvers.js libp2p-sender.js <sink-multiaddr>
// Dials the sink, opens one yamux stream of ONE_WAY_PROTOCOL and prints {"ready":true}. Each
// stdin line runs one slice with the same loop as the in-process senders (bench/transports.js,
// bench/round-trips.js) and answers {"done":true}: "one-way <n>" sends n 100-byte messages, one
// send() each, waiting for 'drain' only when send() says the stream is full, then waits for the
// sink's ack for the last of them; "round-trips <n> <window>" keeps `window` messages
// unanswered until n acks have come (the sink then acks every message); "handshakes <n>
// <concurrency>" runs n handshakes, <concurrency> at a time (see handshake()). "cpu" answers its
// CPU time so far; "diallers <count>" makes the nodes the handshakes dial from.
import { createInterface } from "node:readline";
import { multiaddr } from "@multiformats/multiaddr";
import { acks } from "../acks.js";
import { HELLO_PROTOCOL, MESSAGE_BYTES, ONE_WAY_PROTOCOL, byteLength, libp2pNode } from "./libp2p-node.js";

const PAYLOAD = new Uint8Array(MESSAGE_BYTES).fill(7);

function announce(info) {
  process.stdout.write(JSON.stringify(info) + "\n");
}

const HELLO = Uint8Array.of(2);
const sinkAddress = multiaddr(process.argv[2]);
const node = await libp2pNode();
const stream = await node.dialProtocol(sinkAddress, ONE_WAY_PROTOCOL);
const ack = acks();
// The sink acks with single bytes: a byte is an ack, whatever the segmenting.
stream.addEventListener("message", (event) => {
  for (let i = byteLength(event.data); i > 0; i--) ack.onAck();
});
const nextAck = () => ack.next();

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

/**
 * One handshake as the handshake scenario counts it for the other transports: a new
 * connection (TCP, multistream-select, Noise XX, yamux), a stream, one byte out and the sink's
 * one-byte reply back, then the connection is aborted (as the others destroy theirs). libp2p
 * keeps one connection per peer and would share a dial in flight to the same peer, so each
 * concurrent worker dials from a node of its own, created before any slice is timed ("diallers
 * <count>").
 */
async function handshake(dialler) {
  const connection = await dialler.dial(sinkAddress);
  try {
    const hello = await connection.newStream(HELLO_PROTOCOL);
    const reply = new Promise((resolve) => hello.addEventListener("message", resolve, { once: true }));
    hello.send(HELLO);
    await reply;
  } finally {
    connection.abort(new Error("handshake done"));
  }
}

const diallers = [];
async function addDiallers(count) {
  while (diallers.length < count) diallers.push(await libp2pNode());
}

async function handshakesSlice(n, concurrency) {
  if (diallers.length < concurrency) throw new Error(`${concurrency} concurrent handshakes need as many diallers first`);
  let next = 0;
  const worker = async (dialler) => {
    while (next < n) {
      next++;
      await handshake(dialler);
    }
  };
  await Promise.all(diallers.slice(0, concurrency).map(worker));
}

const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line === "cpu") {
    const { user, system } = process.cpuUsage();
    announce({ cpuMicros: user + system });
    return;
  }
  const [kind, n, more] = line.split(" ");
  const slices = { "one-way": oneWaySlice, "round-trips": pipelinedSlice, handshakes: handshakesSlice, diallers: addDiallers };
  const slice = slices[kind](Number(n), Number(more));
  void slice.then(() => announce({ done: true }));
});
commands.on("close", () => process.exit(0));
announce({ ready: true });
