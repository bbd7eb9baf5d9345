import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { InvalidArgumentError } from "./errors.js";

/** Identifiers and key-derived names (design §5). */

const UID_RE = /^[0-9a-f]{32}$/;
const GROUP_ID_RE = /^g[0-9a-f]{31}$/;
const MESSAGE_ID_RE = /^[0-9a-f]{32}$/;
const FINGERPRINT_RE = /^[0-9a-f]{64}$/;

export const PUBLIC_KEY_LENGTH = 32;

/** uid: 32 hex of a domain-separated SHA-256 of the public key, so it cannot be claimed without the key. */
export function uidFromPublicKey(publicKey: Uint8Array): string {
  assertPublicKey(publicKey);
  return createHash("sha256").update("jarvis-uid-v1").update(publicKey).digest("hex").slice(0, 32);
}

/** fingerprint: 64 hex, SHA-256 of the public key. */
export function fingerprintOf(publicKey: Uint8Array): string {
  assertPublicKey(publicKey);
  return createHash("sha256").update(publicKey).digest("hex");
}

/** 16 groups of 4 hex characters, for people to read aloud. */
export function formatFingerprint(fingerprint: string): string {
  return (fingerprint.match(/.{1,4}/g) ?? []).join(" ");
}

/** Bytes of a message id that carry its creation time (milliseconds since the epoch, big-endian): enough until the year 10889. */
const MESSAGE_ID_TIME_BYTES = 6;
const MESSAGE_ID_RANDOM_BYTES = 16 - MESSAGE_ID_TIME_BYTES;
/**
 * CSPRNG output drawn in one call and handed out ten bytes at a time, each byte once: one
 * draw per id cost more than the rest of making it. Ids are not secrets (every recipient
 * sees them), so holding the next few hundred ids' randomness in memory exposes nothing.
 */
const randomPool = Buffer.alloc(MESSAGE_ID_RANDOM_BYTES * 400);
let randomPoolOffset = randomPool.length;

/**
 * A new message id: 16 bytes as 32 lowercase hex, the first 6 the creation time in
 * milliseconds and the other 10 (80 bits) random. Ids made later sort later, so each
 * store's indexes keyed by message id (dedup, acks, the outbox) grow at their right edge
 * instead of touching a random page per insert, which on the encrypted store cost a page
 * encryption and write per message. Nothing reads the time back or trusts it: a peer's ids
 * are still only 16 bytes unique per sender, and the message already carries its send time.
 */
export function newMessageId(nowMs: number = Date.now()): string {
  if (randomPoolOffset + MESSAGE_ID_RANDOM_BYTES > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const id = Buffer.allocUnsafe(16);
  id.writeUIntBE(Math.max(0, Math.min(Math.floor(nowMs), 2 ** 48 - 1)), 0, MESSAGE_ID_TIME_BYTES);
  randomPool.copy(id, MESSAGE_ID_TIME_BYTES, randomPoolOffset, randomPoolOffset + MESSAGE_ID_RANDOM_BYTES);
  randomPoolOffset += MESSAGE_ID_RANDOM_BYTES;
  return id.toString("hex");
}

export function newGroupId(): string {
  return "g" + randomBytes(16).toString("hex").slice(0, 31);
}

export const isUid = (value: string): boolean => UID_RE.test(value);
export const isGroupId = (value: string): boolean => GROUP_ID_RE.test(value);
export const isMessageId = (value: string): boolean => MESSAGE_ID_RE.test(value);
export const isFingerprint = (value: string): boolean => FINGERPRINT_RE.test(value);

export function assertPublicKey(publicKey: Uint8Array): void {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new InvalidArgumentError(`public key must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`, "bad-key");
  }
}

/**
 * Safety number: 60 digits both people compute identically from their two keys (order
 * independent). Each side contributes 30 digits from an iterated SHA-512 of its key; the
 * halves are sorted so that both ends print the same string.
 */
export function safetyNumber(keyA: Uint8Array, keyB: Uint8Array): string {
  const halves = [digitsFor(keyA), digitsFor(keyB)].sort();
  return halves.join("");
}

export function formatSafetyNumber(digits: string): string {
  return (digits.match(/.{1,5}/g) ?? []).join(" ");
}

function digitsFor(publicKey: Uint8Array): string {
  assertPublicKey(publicKey);
  let hash = Buffer.concat([Buffer.from("jarvis-safety-v1"), publicKey]);
  for (let i = 0; i < 1024; i++) hash = createHash("sha512").update(hash).update(publicKey).digest();
  let digits = "";
  for (let i = 0; i < 6; i++) {
    // 5 bytes → a 40-bit integer → 5 decimal digits (mod 100000), as Signal does.
    const chunk = hash.readUIntBE(i * 5, 5);
    digits += String(chunk % 100000).padStart(5, "0");
  }
  return digits;
}
