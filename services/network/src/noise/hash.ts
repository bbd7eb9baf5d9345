import { sodium } from "./sodium.js";

/** BLAKE2b-512 output length. */
export const HASH_LENGTH = 64;
/** BLAKE2b block length, the HMAC block size (RFC 2104's B). */
export const BLOCK_LENGTH = 128;

const BYTE_1 = Buffer.from([0x01]);
const BYTE_2 = Buffer.from([0x02]);

// BLAKE2b is libsodium's crypto_generichash (unkeyed BLAKE2b-512, the BLAKE2b Noise names). A
// handshake side hashes 31 times (8 mixHash, 12 HMACs of 2 hashes, plus one for the static key
// cache), all on inputs of under 300 bytes, where the per-call cost is everything: node:crypto's
// one-shot hash cost ~0.8 µs and an HMAC ~3 µs; libsodium's hash of one buffer ~0.35 µs. Its
// several-buffer form (crypto_generichash_batch) passes a JS array to the addon and cost twice
// that, so short inputs are joined in one reused buffer and hashed in one call.
const SCRATCH_LENGTH = BLOCK_LENGTH + 256;
// Plain Uint8Arrays, and one view per length kept: Buffer#fill and Buffer#subarray cost more
// than the hash of a short input.
const scratch = new Uint8Array(SCRATCH_LENGTH);
const scratchViews: Uint8Array[] = [];
const scratchView = (length: number): Uint8Array => (scratchViews[length] ??= scratch.subarray(0, length));

function totalLength(parts: readonly Uint8Array[]): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}

/** Copies the parts into scratch from `offset` on (the caller checked they fit); returns the end. */
function joinIntoScratch(parts: readonly Uint8Array[], offset: number): number {
  for (const part of parts) {
    scratch.set(part, offset);
    offset += part.length;
  }
  return offset;
}

/**
 * HASH(a ‖ b ‖ …). The scratch buffer is safe to share because this is synchronous, and it is
 * wiped after each use, since a caller may hash a secret.
 */
export function hash(...parts: Uint8Array[]): Buffer {
  const digest = Buffer.alloc(HASH_LENGTH);
  if (parts.length === 1) {
    sodium.crypto_generichash(digest, parts[0] as Uint8Array);
  } else if (totalLength(parts) <= SCRATCH_LENGTH) {
    const end = joinIntoScratch(parts, 0);
    sodium.crypto_generichash(digest, scratchView(end));
    scratch.fill(0, 0, end);
  } else {
    sodium.crypto_generichash_batch(digest, parts);
  }
  return digest;
}

// The outer hash's input, (K ⊕ opad) ‖ inner hash, built in place; wiped after each use.
const outerInput = new Uint8Array(BLOCK_LENGTH + HASH_LENGTH);
const innerDigest = outerInput.subarray(BLOCK_LENGTH);

/**
 * HMAC-BLAKE2b-512 (RFC 2104) of the parts joined: HASH((K ⊕ opad) ‖ HASH((K ⊕ ipad) ‖ parts)),
 * K zero-padded to a block, or hashed first if longer than one. (libsodium's keyed BLAKE2b is a
 * different function, and Noise specifies HMAC, so it is built here from the plain hash.)
 */
export function hmacHash(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const blockKey = key.length > BLOCK_LENGTH ? hash(key) : key;
  // The inner input, (K ⊕ ipad) ‖ parts, goes in scratch; outer and inner pads in one pass.
  scratch.fill(0x36, 0, BLOCK_LENGTH);
  outerInput.fill(0x5c, 0, BLOCK_LENGTH);
  for (let i = 0; i < blockKey.length; i++) {
    const byte = blockKey[i] as number;
    scratch[i] = (scratch[i] as number) ^ byte;
    outerInput[i] = (outerInput[i] as number) ^ byte;
  }
  let innerEnd = BLOCK_LENGTH;
  if (BLOCK_LENGTH + totalLength(parts) <= SCRATCH_LENGTH) {
    innerEnd = joinIntoScratch(parts, BLOCK_LENGTH);
    sodium.crypto_generichash(innerDigest, scratchView(innerEnd));
  } else {
    sodium.crypto_generichash_batch(innerDigest, [scratchView(BLOCK_LENGTH), ...parts]);
  }
  const mac = Buffer.alloc(HASH_LENGTH);
  sodium.crypto_generichash(mac, outerInput);
  scratch.fill(0, 0, innerEnd);
  outerInput.fill(0);
  if (blockKey !== key) blockKey.fill(0);
  return mac;
}

/**
 * Noise §4.3 HKDF with two outputs (the only arity XX needs; the three-output
 * form exists for PSK modes). This is the Noise-specific construction, an HMAC
 * chain keyed by the chaining key with no "info" string; it is not
 * interchangeable with RFC 5869 in general (with salt = ck and an empty info it does compute
 * the same two outputs, which the tests use as a cross-check).
 */
export function hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Buffer, Buffer] {
  const tempKey = hmacHash(chainingKey, inputKeyMaterial);
  const output1 = hmacHash(tempKey, BYTE_1);
  const output2 = hmacHash(tempKey, output1, BYTE_2);
  tempKey.fill(0);
  return [output1, output2];
}
