/**
 * The map key for a peer's public key: its hex, read straight from the caller's bytes. Every
 * send and inbound frame looks its peer up, and the profile of a busy channel showed the extra
 * Buffer.from copy made for each lookup. (No per-object cache: a caller that reused one buffer
 * for different keys would then be routed to the wrong peer.)
 */
export function keyHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}
