import { timingSafeEqual } from "node:crypto";
import { hash } from "./hash.js";
import { loadKeyPair, type KeyPair, type LoadedKeyPair } from "./keys.js";

interface Loaded {
  privateKeyBuffer: Buffer;
  publicKey: Buffer;
  privateDigest: Buffer;
  loaded: LoadedKeyPair;
}

/**
 * A node runs every handshake with the same static key pair object, and importing it (a JWK
 * import plus the check that its halves match) cost about one DH per handshake. So the imported
 * key is remembered per pair object, as long as that object lives. A hit is only trusted if the
 * pair still holds the same bytes: same buffers, same public key, and a digest of the private
 * key that matches, so a caller that overwrote or wiped its pair in place gets a fresh import
 * (or the import's error), never a stale key. The digest is one-way and lives no longer than the
 * pair, which holds the private key in clear anyway.
 */
const cache = new WeakMap<KeyPair, Loaded>();

function digestOf(privateKey: Uint8Array): Buffer {
  return hash(privateKey);
}

export function loadStaticKeyPair(pair: KeyPair): LoadedKeyPair {
  const hit = cache.get(pair);
  if (hit && hit.privateKeyBuffer === pair.privateKey && hit.publicKey.equals(pair.publicKey)) {
    if (timingSafeEqual(hit.privateDigest, digestOf(pair.privateKey))) return hit.loaded;
  }
  const loaded = loadKeyPair(pair, "static");
  cache.set(pair, { privateKeyBuffer: pair.privateKey, publicKey: Buffer.from(pair.publicKey), privateDigest: digestOf(pair.privateKey), loaded });
  return loaded;
}
