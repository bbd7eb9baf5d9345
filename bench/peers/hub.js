#!/usr/bin/env node
// One node that many peers connect to, in its own process so its memory is its own:
//   node hub.js jarvis|tcp
// stdin line 1 (jarvis): JSON array of the peers' public keys (hex) to allow. Prints one JSON
// line { address, publicKey? }. Then each stdin line "stats" is answered with one JSON line:
// { rssMB, peakMB, connected, frames } (frames: payloads received; for tcp, bytes / 100).
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, generateKeyPair } from "@jarvis/network/testing";

const kind = process.argv[2];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

function memory() {
  const status = readFileSync("/proc/self/status", "utf8");
  const mb = (field) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) / 102.4) / 10;
  return { rssMB: mb("VmRSS"), peakMB: mb("VmHWM") };
}

let stats;
if (kind === "jarvis") {
  const allowed = JSON.parse((await lines.next()).value).map((hex) => Buffer.from(hex, "hex"));
  const keys = generateKeyPair();
  const node = new NetworkNode({ clock: systemClock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
  const { listenAddress } = await node.configure({ privateKey: Buffer.from(keys.privateKey), listen: "127.0.0.1:0", allowed });
  const link = node.openLink();
  let frames = 0;
  void (async () => {
    for await (const event of link) if (event.kind === "frame") frames++;
  })();
  stats = () => ({ ...memory(), connected: node.listPeers().filter((p) => p.state === "connected").length, frames });
  print({ address: listenAddress, publicKey: Buffer.from(keys.publicKey).toString("hex") });
} else {
  const sockets = new Set();
  let bytes = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (chunk) => (bytes += chunk.length));
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  stats = () => ({ ...memory(), connected: sockets.size, frames: Math.floor(bytes / 100) });
  print({ address: `127.0.0.1:${server.address().port}` });
}
for (;;) {
  const { value, done } = await lines.next();
  if (done) process.exit(0);
  if (value.trim() === "stats") print(stats());
}
