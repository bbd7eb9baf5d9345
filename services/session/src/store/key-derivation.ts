import { randomBytes, createHmac, timingSafeEqual } from "node:crypto";
import argon2 from "argon2";

/**
 * The store key comes from the password through Argon2id (64 MiB, t=3, p=1, per-identity
 * salt). The keyfile holds only the salt, the parameters and a verifier — an HMAC under the
 * derived key — so a wrong password is told apart from a damaged database.
 */
export interface KdfParams {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export const DEFAULT_KDF: KdfParams = { memoryKiB: 65536, iterations: 3, parallelism: 1 };

export interface KeyfileContent {
  version: 1;
  kdf: "argon2id";
  salt: string; // base64
  params: KdfParams;
  verifier: string; // base64 HMAC-SHA256(key, "jarvis-store-verifier")
}

export async function deriveKey(password: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  return argon2.hash(password, {
    type: argon2.argon2id,
    raw: true,
    salt,
    hashLength: 32,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  });
}

export async function newKeyfile(password: string, params: KdfParams = DEFAULT_KDF): Promise<{ keyfile: KeyfileContent; key: Buffer }> {
  const salt = randomBytes(16);
  const key = await deriveKey(password, salt, params);
  return { key, keyfile: { version: 1, kdf: "argon2id", salt: salt.toString("base64"), params, verifier: verifierOf(key) } };
}

/** Derives the key and checks it against the verifier; undefined means a wrong password. */
export async function unlockKeyfile(password: string, keyfile: KeyfileContent): Promise<Buffer | undefined> {
  const key = await deriveKey(password, Buffer.from(keyfile.salt, "base64"), keyfile.params);
  const expected = Buffer.from(keyfile.verifier, "base64");
  const actual = Buffer.from(verifierOf(key), "base64");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    key.fill(0);
    return undefined;
  }
  return key;
}

export function parseKeyfile(text: string): KeyfileContent {
  const value = JSON.parse(text) as KeyfileContent;
  if (value?.version !== 1 || value.kdf !== "argon2id" || typeof value.salt !== "string" || typeof value.verifier !== "string") {
    throw new Error("unsupported keyfile");
  }
  const p = value.params;
  if (!p || !Number.isInteger(p.memoryKiB) || !Number.isInteger(p.iterations) || !Number.isInteger(p.parallelism)) {
    throw new Error("keyfile has bad KDF parameters");
  }
  return value;
}

/** Whether an already-derived key is this keyfile's (a key handed back by the supervisor). */
export function keyMatchesKeyfile(key: Buffer, keyfile: KeyfileContent): boolean {
  const expected = Buffer.from(keyfile.verifier, "base64");
  const actual = Buffer.from(verifierOf(key), "base64");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function verifierOf(key: Buffer): string {
  return createHmac("sha256", key).update("jarvis-store-verifier").digest("base64");
}
