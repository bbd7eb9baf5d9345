import { sodium } from "./sodium.js";

/** BLAKE2b-512 output length. */
export const HASH_LENGTH = 64;
/** BLAKE2b block length, the HMAC block size (RFC 2104's B). */
export const BLOCK_LENGTH = 128;

const BYTE_1 = Buffer.from([0x01]);
const BYTE_2 = Buffer.from([0x02]);

// BLAKE2b is libsodium's crypto_generichash (unkeyed BLAKE2b-512, the BLAKE2b Noise names). A
// handshake side hashes 32 times (8 mixHash, 4 HKDFs of 3 HMACs of 2 hashes), all on inputs of
// under 300 bytes, where the per-call cost is everything: node:crypto's one-shot hash cost
// ~0.8 µs and an HMAC ~3 µs; libsodium's hash of one buffer ~0.35 µs. Its several-buffer form
// (crypto_generichash_batch) passes a JS array to the addon and cost twice that, so short inputs
// are joined in one reused buffer and hashed in one call. The buffers are safe to share because
// all of this is synchronous, and each is wiped after use, since the inputs may be secret.
const SCRATCH_LENGTH = BLOCK_LENGTH + 256;
// Plain Uint8Arrays, and one view per length kept: Buffer#fill and Buffer#subarray cost more
// than the hash of a short input.
const scratch = new Uint8Array(SCRATCH_LENGTH);
const scratchViews: Uint8Array[] = [];
const scratchView = (length: number): Uint8Array => (scratchViews[length] ??= scratch.subarray(0, length));

// Digests are written into buffers the caller owns (hashInto, hkdfInto) rather than fresh ones:
// a fresh 64-byte Buffer lives on V8's heap, and handing it to libsodium makes V8 move it to a
// backing store of its own first, which cost about as much as the hash itself (0.3–1.3 µs of
// CPU, counting the GC it causes, against ~0.4 µs; a handshake pair hashes 62 times). The returning forms below are for tests and one-offs.

/** HASH(a ‖ b), the two-part form every mixHash uses, written into `output` (64 bytes). */
export function hashInto(output: Uint8Array, a: Uint8Array, b?: Uint8Array): void {
  if (b === undefined) {
    sodium.crypto_generichash(output, a);
  } else if (a.length + b.length <= SCRATCH_LENGTH) {
    scratch.set(a);
    scratch.set(b, a.length);
    const end = a.length + b.length;
    sodium.crypto_generichash(output, scratchView(end));
    scratch.fill(0, 0, end);
  } else {
    sodium.crypto_generichash_batch(output, [a, b]);
  }
}

/** HASH(a ‖ b) as a new Buffer. */
export function hash(a: Uint8Array, b?: Uint8Array): Buffer {
  const digest = Buffer.alloc(HASH_LENGTH);
  hashInto(digest, a, b);
  return digest;
}

// HMAC's two hash inputs, built in place: (K ⊕ ipad) ‖ message in `scratch`, and
// (K ⊕ opad) ‖ inner digest in `outerInput`. The pads are written a 32-bit word at a time
// (the pad bytes repeat, so byte order does not matter) from the key copied into `keyBlock`.
const outerInput = new Uint8Array(BLOCK_LENGTH + HASH_LENGTH);
const innerDigest = outerInput.subarray(BLOCK_LENGTH);
const keyBlock = new Uint8Array(BLOCK_LENGTH);
const keyWords = new Uint32Array(keyBlock.buffer);
const innerPadWords = new Uint32Array(scratch.buffer, 0, BLOCK_LENGTH / 4);
const outerPadWords = new Uint32Array(outerInput.buffer, 0, BLOCK_LENGTH / 4);

/** Writes K ⊕ ipad and K ⊕ opad for the HMACs that follow, until wipeHmacState. */
function setHmacKey(key: Uint8Array): void {
  // RFC 2104: a key longer than a block is hashed first (Noise's keys are 64 bytes, never are).
  const blockKey = key.length > BLOCK_LENGTH ? hash(key) : key;
  keyBlock.set(blockKey);
  for (let i = 0; i < BLOCK_LENGTH / 4; i++) {
    const word = keyWords[i] as number;
    innerPadWords[i] = word ^ 0x36363636;
    outerPadWords[i] = word ^ 0x5c5c5c5c;
  }
  keyBlock.fill(0);
  if (blockKey !== key) blockKey.fill(0);
}

/** HMAC under the key last set, of a ‖ b, written into `mac`. */
function hmacWithKeySet(mac: Uint8Array, a: Uint8Array, b?: Uint8Array): void {
  const messageLength = a.length + (b?.length ?? 0);
  if (BLOCK_LENGTH + messageLength <= SCRATCH_LENGTH) {
    scratch.set(a, BLOCK_LENGTH);
    if (b !== undefined) scratch.set(b, BLOCK_LENGTH + a.length);
    sodium.crypto_generichash(innerDigest, scratchView(BLOCK_LENGTH + messageLength));
  } else {
    const parts = [scratchView(BLOCK_LENGTH), a];
    if (b !== undefined) parts.push(b);
    sodium.crypto_generichash_batch(innerDigest, parts);
  }
  sodium.crypto_generichash(mac, outerInput);
}

function wipeHmacState(): void {
  scratch.fill(0);
  outerInput.fill(0);
}

/**
 * HMAC-BLAKE2b-512 (RFC 2104) of a ‖ b: HASH((K ⊕ opad) ‖ HASH((K ⊕ ipad) ‖ a ‖ b)), K
 * zero-padded to a block. (libsodium's keyed BLAKE2b is a different function, and Noise
 * specifies HMAC, so it is built here from the plain hash.)
 */
export function hmacHash(key: Uint8Array, a: Uint8Array, b?: Uint8Array): Buffer {
  const mac = Buffer.alloc(HASH_LENGTH);
  setHmacKey(key);
  hmacWithKeySet(mac, a, b);
  wipeHmacState();
  return mac;
}

/**
 * Noise §4.3 HKDF with two outputs (the only arity XX needs; the three-output
 * form exists for PSK modes). This is the Noise-specific construction, an HMAC
 * chain keyed by the chaining key with no "info" string; it is not
 * interchangeable with RFC 5869 in general (with salt = ck and an empty info it does compute
 * the same two outputs, which the tests use as a cross-check). The two output HMACs share
 * their key, so its pads are written once.
 */
export function hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Buffer, Buffer] {
  const outputs: [Buffer, Buffer] = [Buffer.alloc(HASH_LENGTH), Buffer.alloc(HASH_LENGTH)];
  hkdfInto(chainingKey, inputKeyMaterial, outputs[0], outputs[1]);
  return outputs;
}

// temp_key lives here between its HMAC and the pads it keys, then is wiped.
const tempKey = new Uint8Array(HASH_LENGTH);

/**
 * hkdf writing its outputs into `output1` and `output2` (64 bytes each). `output1` may be the
 * chaining key itself: it is read once, before any output is written, which lets MixKey update
 * ck in place.
 */
export function hkdfInto(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, output1: Uint8Array, output2: Uint8Array): void {
  setHmacKey(chainingKey);
  hmacWithKeySet(tempKey, inputKeyMaterial);
  setHmacKey(tempKey);
  tempKey.fill(0);
  hmacWithKeySet(output1, BYTE_1);
  hmacWithKeySet(output2, output1, BYTE_2);
  wipeHmacState();
}
