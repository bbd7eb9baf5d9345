#!/usr/bin/env node
// node bench/profile-handshakes.js [jarvis|raw-noise] [count]: the responder of the handshake
// scenario (bench/peers/sink.js) under `--cpu-prof`, `count` sequential XX handshakes from a
// RawNoisePeer in this process (each until its first reply, as in bench/handshakes.js), and its
// profile summarised by self time (bench/profile-summary.js) as JSON. raw-noise (the default)
// profiles the bare XX + framing; jarvis a NetworkNode around them.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { RawNoisePeer, generateKeyPair } from "@jarvis/network/testing";
import { summariseProfile } from "./profile-summary.js";

const SINK = fileURLToPath(new URL("./peers/sink.js", import.meta.url));
const kind = process.argv[2] ?? "raw-noise";
const count = Number(process.argv[3] ?? 1000);
const keys = generateKeyPair();
const dir = mkdtempSync(join(tmpdir(), "jv-hsprof-"));
try {
  const args = ["--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval", "200", SINK, kind, "1", Buffer.from(keys.publicKey).toString("hex")];
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const { address } = JSON.parse((await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()).value);
  for (let i = 0; i < count; i++) {
    const peer = await RawNoisePeer.dial(address, keys);
    peer.send(Buffer.from([2]));
    await peer.waitForPayloads(1, 60_000);
    peer.destroy();
    // Our node keeps one channel per key: wait until it has seen this one close.
    if (kind === "jarvis") await peer.closed;
  }
  // Closing its stdin ends the sink, which writes the profile on exit.
  child.stdin.end();
  await new Promise((resolve) => child.once("exit", resolve));
  const summary = summariseProfile(JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), "utf8")), 12);
  const doc = { responder: kind, handshakes: count, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100), busyMsPerHandshake: Number((summary.busyMs / count).toPrecision(3)), ...summary };
  process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
