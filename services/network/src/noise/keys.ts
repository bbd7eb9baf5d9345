import { timingSafeEqual } from "node:crypto";

import { NoiseError } from "./errors.js";
import { sodium } from "./sodium.js";

/** DHLEN for Curve25519: public keys, private keys and shared secrets are all 32 bytes. */
export const DH_LENGTH = 32;

export interface KeyPair {
  /** Raw 32-byte X25519 public key (the u-coordinate, little-endian). */
  publicKey: Buffer;
  /** Raw 32-byte X25519 private scalar (clamping is applied by X25519 itself). */
  privateKey: Buffer;
}

// X25519 is libsodium's (sodium-native), not node:crypto's. node:crypto only does X25519 on
// KeyObjects, and getting raw 32-byte keys in and out of them (a JWK import per ephemeral key,
// a public key export per keygen, an import per remote key) cost more per handshake than the
// curve arithmetic; libsodium works on raw buffers, and its keygen and DH are themselves the
// fastest on this machine (bench/x25519.js times both libraries). Raw private keys also mean
// the handshake can zero its secrets, which it could not do inside a KeyObject.

function requireKeyLength(key: Uint8Array, what: string): void {
  if (key.length !== DH_LENGTH) {
    throw new NoiseError("bad-key", `${what} must be ${DH_LENGTH} bytes, got ${key.length}`);
  }
}

/** The public key of a private scalar (X25519 with the base point; it clamps the scalar itself). */
function publicKeyOf(privateKey: Uint8Array): Buffer {
  const publicKey = Buffer.alloc(DH_LENGTH);
  sodium.crypto_scalarmult_base(publicKey, privateKey);
  return publicKey;
}

/** A fresh key pair: 32 random bytes are a valid scalar (RFC 7748 §5: X25519 clamps it). */
export function generateKeyPair(): KeyPair {
  // Buffer.alloc, not allocUnsafe: a secret never lives in the shared pool slab.
  const pair = { publicKey: Buffer.alloc(DH_LENGTH), privateKey: Buffer.alloc(DH_LENGTH) };
  generateKeyPairInto(pair);
  return pair;
}

// The *Into forms write into buffers the caller already has. A fresh buffer of 64 bytes or less
// lives on V8's heap, and V8 moves it to a backing store of its own the first time it is handed
// to libsodium: 0.3–1.3 µs of CPU each on this machine (the upper figure counting the GC it
// causes), against ~16 µs for a keygen. A handshake keeps its working keys in one buffer of its own and writes them there.

/** generateKeyPair into the given pair's two 32-byte buffers. */
export function generateKeyPairInto(pair: KeyPair): void {
  sodium.randombytes_buf(pair.privateKey);
  sodium.crypto_scalarmult_base(pair.publicKey, pair.privateKey);
}

export function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  requireKeyLength(privateKey, "private key");
  // Copy so the pair stays valid if the caller wipes or reuses its buffer.
  return { publicKey: publicKeyOf(privateKey), privateKey: copySecret(privateKey) };
}

/**
 * Checks that a key pair's halves belong together: a mismatched pair would otherwise only show
 * up as a baffling authentication failure on the peer's side.
 */
export function checkKeyPair(pair: KeyPair, what: string): void {
  requireKeyLength(pair.privateKey, `${what} private key`);
  requireKeyLength(pair.publicKey, `${what} public key`);
  const derived = publicKeyOf(pair.privateKey);
  if (!timingSafeEqual(derived, pair.publicKey)) {
    throw new NoiseError("bad-key", `${what} public key does not belong to its private key`);
  }
}

/**
 * X25519(privateKey, publicKey). A peer that sends a low-order point would force a predictable
 * all-zero secret, silently removing that DH's contribution to the session keys, so that case
 * is an error (Noise §12.1 allows either behaviour; rejecting is the safer one). libsodium
 * already refuses it (it returns -1 for a small-order point or an all-zero result); the zero
 * check below keeps the guarantee in this file whatever the library does.
 */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Buffer {
  const shared = Buffer.alloc(DH_LENGTH);
  dhInto(shared, privateKey, publicKey);
  return shared;
}

/** dh written into `shared` (32 bytes); on an error `shared` holds nothing secret. */
export function dhInto(shared: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array): void {
  requireKeyLength(privateKey, "private key");
  requireKeyLength(publicKey, "public key");
  try {
    sodium.crypto_scalarmult(shared, privateKey, publicKey);
  } catch (cause) {
    throw new NoiseError("bad-key", "X25519 failed (low-order public key)", { cause });
  }
  if (sodium.sodium_is_zero(shared)) {
    throw new NoiseError("bad-key", "X25519 produced the all-zero secret (low-order public key)");
  }
}

/** A copy of a secret outside Buffer's shared pool, so wiping it later leaves nothing behind. */
export function copySecret(secret: Uint8Array): Buffer {
  const copy = Buffer.alloc(secret.length);
  copy.set(secret);
  return copy;
}

/**
 * Overwrites a secret (a private key, a DH result) in place with zeros. TypedArray#fill, not
 * libsodium's sodium_memzero: the C function exists so a C compiler cannot drop a store to
 * memory that is never read again, which V8 does not do to a buffer (its bytes stay observable
 * through every other view of the same memory); and fill is a memset without a native call's
 * ~0.15 µs, ten times per handshake pair.
 */
export function wipe(secret: Uint8Array): void {
  secret.fill(0);
}
