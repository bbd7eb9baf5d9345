import { createHash, randomBytes } from "node:crypto";
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

export function newMessageId(): string {
  return randomBytes(16).toString("hex");
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
