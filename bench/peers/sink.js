#!/usr/bin/env node
// A receiving peer in its own process for the one-way transport scenario:
//   node sink.js tcp|secret-stream|jarvis|raw-noise <messages-per-ack> [client-public-key-hex[,hex...]]
// It listens on 127.0.0.1:0, prints one JSON line ({ address, publicKey? }) and then counts
// the messages arriving on each connection, answering one small ack each time another
// <messages-per-ack> have arrived, so the sender can time a slice end to end. With an ack per
// message it is also the far end of the round-trip and handshake scenarios (any number of
// connections; the jarvis node allows every listed client key).
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import SecretStream from "@hyperswarm/secret-stream";
import { silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, RawNoisePeer, generateKeyPair } from "@jarvis/network/testing";

const [kind, perAckArg, clientKeyHex] = process.argv.slice(2);
const perAck = Number(perAckArg);
const MESSAGE_BYTES = 100;
const ACK = Buffer.from([1]);
const SECRET_STREAM_KEYS = SecretStream.keyPair();

function announce(info) {
  process.stdout.write(JSON.stringify(info) + "\n");
}

// Each stdin line is answered with this process's CPU time so far, so the bench can charge a
// slice's responder CPU to it. stdin closing (the bench gone) ends the process.
const commands = createInterface({ input: process.stdin });
commands.on("line", () => {
  const { user, system } = process.cpuUsage();
  announce({ cpuMicros: user + system });
});
commands.on("close", () => process.exit(0));

if (kind === "tcp" || kind === "secret-stream") {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    let count = 0;
    if (kind === "tcp") {
      // Fixed-size messages: a byte count is a message count, whatever the segmenting.
      let bytes = 0;
      socket.on("data", (chunk) => {
        bytes += chunk.length;
        while (bytes >= (count + 1) * MESSAGE_BYTES) if (++count % perAck === 0) socket.write(ACK);
      });
    } else {
      // One static key pair for every connection, as our node has: a handshake should not
      // pay for generating the responder's long-term key.
      const stream = new SecretStream(false, socket, { keyPair: SECRET_STREAM_KEYS });
      stream.on("data", () => {
        if (++count % perAck === 0) stream.write(ACK);
      });
      stream.on("error", () => {});
    }
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1", () => announce({ address: `127.0.0.1:${server.address().port}` }));
} else if (kind === "raw-noise") {
  // The same XX and framing modules as the node, without the node around them (no admission,
  // peer table or Link): the handshake scenario's measure of what the node adds. It answers
  // the first payload on each connection only.
  const keys = generateKeyPair();
  const server = createServer((socket) => {
    socket.on("error", () => {});
    void RawNoisePeer.accept(socket, keys)
      .then(async (peer) => {
        await peer.waitForPayloads(1, 60_000);
        peer.send(ACK);
      })
      .catch(() => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => announce({ address: `127.0.0.1:${server.address().port}`, publicKey: Buffer.from(keys.publicKey).toString("hex") }));
} else if (kind === "jarvis") {
  const keys = generateKeyPair();
  const node = new NetworkNode({ clock: systemClock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
  const { listenAddress } = await node.configure({ privateKey: Buffer.from(keys.privateKey), listen: "127.0.0.1:0", allowed: clientKeyHex.split(",").map((hex) => Buffer.from(hex, "hex")) });
  const link = node.openLink();
  announce({ address: listenAddress, publicKey: Buffer.from(keys.publicKey).toString("hex") });
  const counts = new Map();
  for await (const event of link) {
    if (event.kind !== "frame") continue;
    const key = Buffer.from(event.publicKey).toString("hex");
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    if (count % perAck === 0) void node.send(event.publicKey, ACK);
  }
} else {
  process.stderr.write(`unknown kind ${kind}\n`);
  process.exit(2);
}
