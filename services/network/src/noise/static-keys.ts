import { timingSafeEqual } from "node:crypto";
import { checkKeyPair, copySecret, type KeyPair } from "./keys.js";

interface Checked {
  privateKeyBuffer: Buffer;
  publicKey: Buffer;
  privateKey: Buffer;
}

/**
 * A node runs every handshake with the same static key pair object, and checking that its halves
 * match costs one X25519 base-point multiplication (about a fifth of a side's X25519 work). So a
 * pair object that passed the check is remembered, as long as that object lives. A hit is only
 * trusted if the pair still holds the same bytes: same buffers and the same public and private
 * key bytes as when it was checked, so a caller that overwrote or wiped its pair in place is
 * checked again (and refused if it no longer matches), never waved through. The remembered copy
 * lives no longer than the pair, which holds the private key in clear anyway. (Comparing bytes
 * replaced a digest of the private key: one BLAKE2b per handshake side saved.)
 */
const checked = new WeakMap<KeyPair, Checked>();

/**
 * The handshake's own copy of a static pair, checked (throws NoiseError "bad-key" if the sizes
 * or halves are wrong). A copy, so the handshake can wipe it without touching the caller's pair;
 * its private key is copied into `privateKeyCopy` (32 bytes), the handshake's own buffer.
 */
export function loadStaticKeyPair(pair: KeyPair, privateKeyCopy: Buffer): KeyPair {
  const hit = checked.get(pair);
  const trusted = hit !== undefined
    && hit.privateKeyBuffer === pair.privateKey
    && hit.publicKey.equals(pair.publicKey)
    && hit.privateKey.length === pair.privateKey.length
    && timingSafeEqual(hit.privateKey, pair.privateKey);
  if (!trusted) {
    checkKeyPair(pair, "static");
    checked.set(pair, { privateKeyBuffer: pair.privateKey, publicKey: Buffer.from(pair.publicKey), privateKey: copySecret(pair.privateKey) });
  }
  privateKeyCopy.set(pair.privateKey);
  return { publicKey: Buffer.from(pair.publicKey), privateKey: privateKeyCopy };
}
