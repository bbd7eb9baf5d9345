// Noise transport against raw ChaCha20-Poly1305 through an independent code path
// (@noble/ciphers, pure JS, not node:crypto which our CipherState uses), and full XX
// handshakes against the X25519 work they cannot avoid (bench/x25519.js).
import { randomBytes } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { CipherState, XXHandshake, generateKeyPair } from "@jarvis/network/testing";
import { interleaved, round0, round2, timeSlice } from "./measure.js";
import { chooseX25519, x25519HandshakeWork, x25519Slice } from "./x25519.js";

const PROLOGUE = Buffer.from("jarvis-peer/1 Noise_XX_25519_ChaChaPoly_BLAKE2b");

/** Seal + open of `size` bytes per op, both sides, as MB/s of payload. */
export async function noiseVsRawCipher({ size, sliceMs, rounds }) {
  const key = randomBytes(32);
  const data = randomBytes(size);
  const empty = Buffer.alloc(0);
  const sender = new CipherState(key);
  const receiver = new CipherState(key);
  const noise = () => timeSlice(() => {
    receiver.decryptWithAd(empty, sender.encryptWithAd(empty, data));
    return size;
  }, sliceMs);
  let counter = 0n;
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  const raw = () => timeSlice(() => {
    view.setBigUint64(4, counter++, true);
    const sealed = chacha20poly1305(key, nonce).encrypt(data);
    chacha20poly1305(key, nonce).decrypt(sealed);
    return size;
  }, sliceMs);
  const r = await interleaved(rounds, noise, raw);
  return {
    figure: round2(r.figure / 1e6),
    unit: `MB/s, ${size}-byte messages, seal+open`,
    ceiling: round2(r.ceiling / 1e6),
    ceilingName: "raw ChaCha20-Poly1305 seal+open, @noble/ciphers (independent of our node:crypto path)",
    ratio: r.ratio,
    target: 0.8,
  };
}

/**
 * Full XX handshakes (both sides in this process) against the X25519 work they cannot avoid
 * (bench/x25519.js: 1 keygen + 3 DH per side on the cheapest node:crypto or libsodium path, chosen in this
 * run), interleaved in alternating slices.
 */
export async function handshakesVsX25519({ sliceMs, rounds }) {
  const a = generateKeyPair();
  const b = generateKeyPair();
  const empty = Buffer.alloc(0);
  const handshake = () => timeSlice(() => {
    const i = new XXHandshake({ initiator: true, staticKeyPair: a, prologue: PROLOGUE });
    const r = new XXHandshake({ initiator: false, staticKeyPair: b, prologue: PROLOGUE });
    r.readMessage(i.writeMessage(empty));
    i.readMessage(r.writeMessage(empty));
    r.readMessage(i.writeMessage(empty));
    i.split();
    r.split();
    return 1;
  }, sliceMs);
  const choice = await chooseX25519({ sliceMs, rounds });
  const x25519 = x25519Slice(x25519HandshakeWork(choice), sliceMs);
  // One untimed slice of each first: in a quick run the first slice of our handshake measured
  // the JIT warming up (0.36–0.51 of the ceiling, against ~0.6 once warm).
  await handshake();
  await x25519();
  const r = await interleaved(rounds, handshake, x25519);
  return {
    figure: round0(r.figure),
    unit: "full XX handshakes/s, both sides in one process",
    ceiling: round0(r.ceiling),
    ceilingName: `X25519 work of one handshake (2 keygen + 6 DH) per second: keygen ${choice.keygen}, DH on ${choice.dh}, the fastest node:crypto or libsodium candidates in this run`,
    ratio: r.ratio,
    // The same slices per CPU second of this process: steadier than wall time on a shared machine.
    perCpuSecond: { figure: round0(r.cpu.figure), ceiling: round0(r.cpu.ceiling), ratio: r.cpu.ratio },
    x25519CandidatesPerSecond: choice.candidatesPerSecond,
    target: { ratio: 0.8, perSecond: 1000 },
  };
}
