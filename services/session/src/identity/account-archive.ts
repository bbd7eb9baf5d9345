import { randomBytes, createCipheriv, createDecipheriv } from "node:crypto";
import { existsSync, lstatSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { AlreadyExistsError, InvalidArgumentError, WrongPasswordError, ensurePrivateDir, writeFileAtomic, type ProfilePaths } from "@jarvis/core";
import type { Store } from "../store/store.js";
import { DEFAULT_KDF, deriveKey, type KdfParams } from "../store/key-derivation.js";
import { identityExists, readKeyfile, verifyPassword } from "./account-files.js";
import { MAX_ARCHIVE_BYTES } from "../constants.js";

/*
 * Account archive, version 2:
 *   "JARVISA2" | memoryKiB u32 | iterations u32 | parallelism u32 | salt(16) | nonce(12) | tag(16)
 *   | ChaCha20-Poly1305(JSON manifest), with everything before the ciphertext as associated data.
 * The header records the KDF parameters it was sealed with and import derives with them. Export
 * uses the profile's own parameters: the archive carries the keyfile, whose verifier can be
 * attacked at exactly those parameters, so a stronger archive KDF would protect nothing more.
 * Version 1 ("JARVISA1", no parameters, always the default KDF) is still imported.
 */
const MAGIC_V1 = Buffer.from("JARVISA1");
const MAGIC_V2 = Buffer.from("JARVISA2");
const MEMBERS = new Set(["store.db", "keyfile"]);
/** Bounds on parameters read from an archive: a hostile file must not make import allocate 1 TiB. */
const KDF_LIMITS = { memoryKiB: [8, 4 * 1024 * 1024], iterations: [1, 64], parallelism: [1, 16] } as const;

export async function exportArchive(paths: ProfilePaths, store: Store, password: string): Promise<Buffer> {
  await verifyPassword(paths, password);
  const kdf = readKeyfile(paths).params;
  store.checkpoint();
  const manifest = JSON.stringify({
    version: 1,
    files: [
      { name: "keyfile", data: readFileSync(paths.keyfile).toString("base64") },
      { name: "store.db", data: readFileSync(paths.store).toString("base64") },
    ],
  });
  const params = Buffer.alloc(12);
  params.writeUInt32BE(kdf.memoryKiB, 0);
  params.writeUInt32BE(kdf.iterations, 4);
  params.writeUInt32BE(kdf.parallelism, 8);
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const header = Buffer.concat([MAGIC_V2, params, salt, nonce]);
  const key = await deriveKey(password, salt, kdf);
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  cipher.setAAD(header, { plaintextLength: Buffer.byteLength(manifest) });
  const body = Buffer.concat([cipher.update(manifest, "utf8"), cipher.final()]);
  key.fill(0);
  return Buffer.concat([header, cipher.getAuthTag(), body]);
}

interface Sealed {
  kdf: KdfParams;
  salt: Buffer;
  nonce: Buffer;
  aad: Buffer;
  tag: Buffer;
  body: Buffer;
}

function parseArchive(bytes: Buffer): Sealed {
  const bad = () => new InvalidArgumentError("not a Jarvis account archive", "bad-archive");
  if (bytes.length > MAX_ARCHIVE_BYTES || bytes.length < 52) throw bad();
  const magic = bytes.subarray(0, 8);
  if (magic.equals(MAGIC_V1)) {
    return { kdf: DEFAULT_KDF, salt: bytes.subarray(8, 24), nonce: bytes.subarray(24, 36), aad: MAGIC_V1, tag: bytes.subarray(36, 52), body: bytes.subarray(52) };
  }
  if (!magic.equals(MAGIC_V2) || bytes.length < 64) throw bad();
  const kdf = { memoryKiB: bytes.readUInt32BE(8), iterations: bytes.readUInt32BE(12), parallelism: bytes.readUInt32BE(16) };
  for (const [name, [min, max]] of Object.entries(KDF_LIMITS)) {
    const value = kdf[name as keyof KdfParams];
    if (value < min || value > max) throw new InvalidArgumentError(`archive KDF parameter ${name}=${value} is out of range`, "bad-archive");
  }
  return { kdf, salt: bytes.subarray(20, 36), nonce: bytes.subarray(36, 48), aad: bytes.subarray(0, 48), tag: bytes.subarray(48, 64), body: bytes.subarray(64) };
}

/**
 * Restores an archive into a profile without an identity. Members are plain names from a
 * fixed list: anything with a path, "..", or an unexpected name is refused, and a symlink
 * where a member would go is refused rather than followed.
 */
export async function importArchive(paths: ProfilePaths, archive: Uint8Array, password: string): Promise<void> {
  if (identityExists(paths) || existsSync(paths.store)) throw new AlreadyExistsError("this profile already has an identity; delete it first", "identity-exists");
  const sealed = parseArchive(Buffer.from(archive));
  const key = await deriveKey(password, sealed.salt, sealed.kdf);
  let manifest: { version: number; files: { name: string; data: string }[] };
  try {
    const decipher = createDecipheriv("chacha20-poly1305", key, sealed.nonce, { authTagLength: 16 });
    decipher.setAAD(sealed.aad, { plaintextLength: sealed.body.length });
    decipher.setAuthTag(sealed.tag);
    manifest = JSON.parse(Buffer.concat([decipher.update(sealed.body), decipher.final()]).toString("utf8")) as typeof manifest;
  } catch {
    throw new WrongPasswordError("wrong password or damaged archive");
  } finally {
    key.fill(0);
  }
  if (manifest.version !== 1 || !Array.isArray(manifest.files)) throw new InvalidArgumentError("unsupported archive version", "bad-archive");
  const names = manifest.files.map((f) => f.name);
  for (const name of names) {
    if (typeof name !== "string" || name !== basename(name) || name.includes("..") || name.startsWith("/") || !MEMBERS.has(name)) {
      throw new InvalidArgumentError(`archive member "${String(name).slice(0, 64)}" is not allowed`, "bad-archive");
    }
  }
  if (new Set(names).size !== MEMBERS.size || names.length !== MEMBERS.size) throw new InvalidArgumentError("archive is incomplete", "bad-archive");
  ensurePrivateDir(paths.home);
  const targets = { keyfile: paths.keyfile, "store.db": paths.store } as Record<string, string>;
  for (const name of names) {
    const target = targets[name] as string;
    if (existsSync(target) || isSymlink(target)) throw new InvalidArgumentError(`refusing to overwrite ${basename(target)}`, "bad-archive");
  }
  for (const file of manifest.files) writeFileAtomic(targets[file.name] as string, Buffer.from(file.data, "base64"));
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
