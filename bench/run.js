#!/usr/bin/env node
// npm run bench: prints one JSON document. Each figure comes with its ceiling measured in the
// same run on the same machine (design §12), so the ratios mean something on any hardware.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { CipherState, XXHandshake, generateKeyPair } from "@jarvis/network/testing";

const PROLOGUE = Buffer.from("jarvis-peer/1 Noise_XX_25519_ChaChaPoly_BLAKE2b");
const CHUNK = 65_518; // largest chunk data in one Noise transport message
const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);

function timed(fn) {
  const start = process.hrtime.bigint();
  let ops = 0;
  while (Number(process.hrtime.bigint() - start) / 1e6 < DURATION_MS) ops += fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return ops / seconds;
}

function rawChaChaBytesPerSecond() {
  const key = randomBytes(32);
  const data = randomBytes(CHUNK);
  let n = 0n;
  return timed(() => {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64LE(n++, 4);
    const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    const ct = Buffer.concat([cipher.update(data), cipher.final()]);
    const tag = cipher.getAuthTag();
    const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    decipher.setAuthTag(tag);
    decipher.update(ct);
    decipher.final();
    return CHUNK;
  });
}

function noiseTransportBytesPerSecond() {
  const key = randomBytes(32);
  const sender = new CipherState(key);
  const receiver = new CipherState(key);
  const data = randomBytes(CHUNK);
  const empty = Buffer.alloc(0);
  return timed(() => {
    receiver.decryptWithAd(empty, sender.encryptWithAd(empty, data));
    return CHUNK;
  });
}

function handshakesPerSecond() {
  const a = generateKeyPair();
  const b = generateKeyPair();
  const empty = Buffer.alloc(0);
  return timed(() => {
    const i = new XXHandshake({ initiator: true, staticKeyPair: a, prologue: PROLOGUE });
    const r = new XXHandshake({ initiator: false, staticKeyPair: b, prologue: PROLOGUE });
    r.readMessage(i.writeMessage(empty));
    i.readMessage(r.writeMessage(empty));
    r.readMessage(i.writeMessage(empty));
    i.split();
    r.split();
    return 1;
  });
}

const raw = rawChaChaBytesPerSecond();
const noise = noiseTransportBytesPerSecond();
const handshakes = handshakesPerSecond();
const mb = (bytesPerSecond) => Math.round((bytesPerSecond / 1e6) * 10) / 10;
const result = {
  machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
  noiseTransport: {
    mbPerSecond: mb(noise),
    ceilingRawChaCha20Poly1305MbPerSecond: mb(raw),
    ratio: Math.round((noise / raw) * 100) / 100,
    target: 0.8,
  },
  handshakes: { perSecond: Math.round(handshakes), target: 1000, note: "full XX, both sides in one process" },
};
process.stdout.write(JSON.stringify(result, null, 2) + "\n");
