import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { KeyObject } from "node:crypto";

import { NoiseError } from "./errors.js";

/** DHLEN for Curve25519: public keys, private keys and shared secrets are all 32 bytes. */
export const DH_LENGTH = 32;

export interface KeyPair {
  /** Raw 32-byte X25519 public key (the u-coordinate, little-endian). */
  publicKey: Buffer;
  /** Raw 32-byte X25519 private scalar (clamping is applied by X25519 itself). */
  privateKey: Buffer;
}

/**
 * A key imported once for repeated DH, as a handshake needs. Only the
 * KeyObject is kept: no raw private bytes linger in JavaScript memory.
 */
export interface LoadedKeyPair {
  publicKey: Buffer;
  privateKeyObject: KeyObject;
}

// node:crypto has no "raw" import for X25519 private keys. A PKCS#8 DER
// envelope (fixed length, since the key is always 32 bytes) works for any key
// but goes through OpenSSL's generic decoder, which costs ~0.35 ms; a JWK
// import is ~8x faster but needs the public half too. So the PKCS#8 path is
// used only where the public key is not yet known.
//
// KeyObjects returned by generateKeyPairSync are never export()ed: on Node
// 20.20 that intermittently deadlocks the process (a GC triggered inside the
// export frees the key's generation job, which takes the key's mutex that the
// export already holds). Keys are therefore generated with encodings, so the
// export happens inside the generation call, and any KeyObject we keep is an
// imported one, which has no generation job.
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
/** Length of the fixed SPKI header (302a300506032b656e032100) before a raw X25519 public key. */
const SPKI_X25519_PREFIX_LENGTH = 12;
const ALL_ZERO = Buffer.alloc(DH_LENGTH);
const JWK_X_PLACEHOLDER = ALL_ZERO.toString("base64url");

function requireKeyLength(key: Uint8Array, what: string): void {
  if (key.length !== DH_LENGTH) {
    throw new NoiseError("bad-key", `${what} must be ${DH_LENGTH} bytes, got ${key.length}`);
  }
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

function importPrivateKeyFromPkcs8(privateKey: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]),
    format: "der",
    type: "pkcs8",
  });
}

function importPublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: base64url(publicKey) }, format: "jwk" });
}

/**
 * A peer's public key imported once, for a handshake that uses it in two DHs (its ephemeral
 * meets both of ours). Refuses what X25519 would refuse, as dhWithKeyObject does.
 */
export function loadPublicKey(publicKey: Uint8Array): KeyObject {
  requireKeyLength(publicKey, "public key");
  try {
    return importPublicKey(publicKey);
  } catch (cause) {
    throw new NoiseError("bad-key", "X25519 public key cannot be imported", { cause });
  }
}

/** Only ever called on imported keys; see the note on generateKeyPairSync above. */
function rawPublicKeyOf(key: KeyObject): Buffer {
  const { x } = createPublicKey(key).export({ format: "jwk" });
  if (x === undefined) throw new NoiseError("bad-key", "X25519 key has no public component");
  return Buffer.from(x, "base64url");
}

export function generateKeyPair(): KeyPair {
  const generated = generateKeyPairSync("x25519", {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  const pair = {
    publicKey: Buffer.from(generated.publicKey.subarray(SPKI_X25519_PREFIX_LENGTH)),
    privateKey: Buffer.from(generated.privateKey.subarray(PKCS8_X25519_PREFIX.length)),
  };
  generated.privateKey.fill(0);
  return pair;
}

/**
 * A fresh, already imported key pair, for ephemeral keys; no raw private bytes are kept.
 *
 * The one on the handshake's hot path. The scalar is 32 random bytes (RFC 7748 §6.1: X25519
 * clamps it itself), imported once as a JWK; the public key is then read from that imported
 * key, so it is always the one OpenSSL derived from the scalar (Node requires a JWK "x" member
 * but derives a private key's public half from "d"; the placeholder below never reaches the
 * wire, and if a Node version did use it, the peer's DH would fail loudly, never silently).
 * This costs about one keygen: generating with DER encodings and re-importing, as
 * generateKeyPair does, cost ~4.5x that and was the largest overhead of a handshake.
 */
export function generateLoadedKeyPair(): LoadedKeyPair {
  // Drawn per key, not from a pool: a pool would keep the scalars of future ephemeral keys in
  // memory before they exist (measured, it saved ~3.5 µs of a ~500 µs handshake).
  const scalar = randomBytes(DH_LENGTH);
  const privateKeyObject = createPrivateKey({
    key: { kty: "OKP", crv: "X25519", d: scalar.toString("base64url"), x: JWK_X_PLACEHOLDER },
    format: "jwk",
  });
  scalar.fill(0);
  return { publicKey: rawPublicKeyOf(privateKeyObject), privateKeyObject };
}

export function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  requireKeyLength(privateKey, "private key");
  return {
    publicKey: rawPublicKeyOf(importPrivateKeyFromPkcs8(privateKey)),
    // Copy so the pair stays valid if the caller wipes or reuses its buffer.
    privateKey: Buffer.from(privateKey),
  };
}

/**
 * Imports a key pair for repeated DH and checks that its two halves belong
 * together: a mismatched pair would otherwise only show up as a baffling
 * authentication failure on the peer's side. (This check also means the
 * result never depends on how Node treats the JWK's redundant "x" member.)
 */
export function loadKeyPair(pair: KeyPair, what: string): LoadedKeyPair {
  requireKeyLength(pair.privateKey, `${what} private key`);
  requireKeyLength(pair.publicKey, `${what} public key`);
  let privateKeyObject: KeyObject;
  try {
    privateKeyObject = createPrivateKey({
      key: { kty: "OKP", crv: "X25519", d: base64url(pair.privateKey), x: base64url(pair.publicKey) },
      format: "jwk",
    });
  } catch (cause) {
    throw new NoiseError("bad-key", `${what} key pair cannot be imported`, { cause });
  }
  if (!timingSafeEqual(rawPublicKeyOf(privateKeyObject), pair.publicKey)) {
    throw new NoiseError("bad-key", `${what} public key does not belong to its private key`);
  }
  return { publicKey: Buffer.from(pair.publicKey), privateKeyObject };
}

/**
 * X25519 with an already imported private key. A peer that sends a low-order
 * point would force a predictable all-zero secret, silently removing that
 * DH's contribution to the session keys, so that case is an error (Noise
 * §12.1 allows either behaviour; rejecting is the safer one).
 */
export function dhWithKeyObject(privateKey: KeyObject, publicKey: Uint8Array | KeyObject): Buffer {
  if (publicKey instanceof Uint8Array) requireKeyLength(publicKey, "public key");
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey: publicKey instanceof Uint8Array ? importPublicKey(publicKey) : publicKey });
  } catch (cause) {
    // OpenSSL itself refuses to return an all-zero X25519 result.
    throw new NoiseError("bad-key", "X25519 failed (invalid or low-order public key)", { cause });
  }
  if (shared.length !== DH_LENGTH || timingSafeEqual(shared, ALL_ZERO)) {
    throw new NoiseError("bad-key", "X25519 produced the all-zero secret (low-order public key)");
  }
  return shared;
}

/** X25519(privateKey, publicKey) on raw keys; see dhWithKeyObject for the low-order check. */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  requireKeyLength(privateKey, "private key");
  requireKeyLength(publicKey, "public key");
  return dhWithKeyObject(importPrivateKeyFromPkcs8(privateKey), publicKey);
}
