import type { KeyObject } from "node:crypto";

import { DH_LENGTH, loadPublicKey } from "./keys.js";

/**
 * Peers' static public keys, imported once. A node handshakes with the same few peers again and
 * again (every reconnect, every dial of a contact), and importing a key (a JWK import, the only
 * raw-ish path node:crypto has; SPKI DER is ~10x slower) cost about a quarter of a DH per side.
 * Only public keys are kept, keyed by their exact bytes, so a hit can never hand out a key other
 * than the one the peer sent. A key X25519 refuses (low order) imports fine and is refused by
 * every DH that uses it, cached or not. The cache is bounded, least recently used first out, so a
 * stranger who sends many keys costs us imports, never memory.
 */
export const PEER_KEY_CACHE_SIZE = 1024;
const cache = new Map<string, KeyObject>();

export function loadPeerStaticKey(publicKey: Uint8Array): KeyObject {
  // Wrong lengths never reach the cache; loadPublicKey refuses them with bad-key.
  if (publicKey.length !== DH_LENGTH) return loadPublicKey(publicKey);
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString("latin1");
  const hit = cache.get(id);
  if (hit !== undefined) {
    // Re-inserting moves the key to the young end of the Map's insertion order.
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const key = loadPublicKey(publicKey);
  if (cache.size >= PEER_KEY_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(id, key);
  return key;
}

/** For tests: how many keys are cached. */
export function cachedPeerKeyCount(): number {
  return cache.size;
}
