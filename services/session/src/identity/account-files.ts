import { generateKeyPairSync, createPublicKey, createPrivateKey, randomBytes, createCipheriv, createDecipheriv } from "node:crypto";
import { existsSync, lstatSync, readFileSync, rmSync, renameSync } from "node:fs";
import { basename } from "node:path";
import {
  AlreadyExistsError,
  CorruptStoreError,
  InvalidArgumentError,
  NotFoundError,
  WrongPasswordError,
  ensurePrivateDir,
  fingerprintOf,
  uidFromPublicKey,
  writeFileAtomic,
  type ProfilePaths,
} from "@jarvis/core";
import { openDatabase, type Db } from "../store/database.js";
import type { Store } from "../store/store.js";
import { DEFAULT_KDF, deriveKey, keyMatchesKeyfile, newKeyfile, parseKeyfile, unlockKeyfile, type KdfParams, type KeyfileContent } from "../store/key-derivation.js";
import type { Identity } from "../model.js";

/**
 * The files of an account: keyfile (salt, KDF parameters, verifier) and the encrypted store.
 * Every operation either completes or leaves the files as they were.
 */

const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const MIN_PASSWORD_LENGTH = 8;

export function identityExists(paths: ProfilePaths): boolean {
  return existsSync(paths.keyfile) && existsSync(paths.store);
}

export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new InvalidArgumentError(`password must be at least ${MIN_PASSWORD_LENGTH} characters`, "weak-password");
}

/** Receives a copy of the derived store key before the original is wiped (the supervisor's custody). */
export type KeySink = (key: Buffer) => void;

export async function createAccount(paths: ProfilePaths, name: string, password: string, kdf: KdfParams = DEFAULT_KDF, keySink?: KeySink): Promise<{ db: Db; identity: Identity }> {
  if (identityExists(paths) || existsSync(paths.store)) throw new AlreadyExistsError("an identity already exists in this profile", "identity-exists");
  checkNewPassword(password);
  ensurePrivateDir(paths.home);
  const { keyfile, key } = await newKeyfile(password, kdf);
  const { privateKey, publicKey } = newStaticKeyPair();
  let db: Db | undefined;
  try {
    db = openDatabase(paths.store, key, { create: true });
    db.prepare("INSERT INTO identity (id, name, private_key, public_key, created_at) VALUES (1, ?, ?, ?, ?)").run(name, privateKey, publicKey, Date.now());
    writeFileAtomic(paths.keyfile, JSON.stringify(keyfile));
    keySink?.(key);
  } catch (error) {
    db?.close();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(paths.store + suffix, { force: true });
    throw error;
  } finally {
    key.fill(0);
  }
  return { db, identity: toIdentity(name, privateKey, publicKey) };
}

export async function openAccount(paths: ProfilePaths, password: string, keySink?: KeySink): Promise<{ db: Db; identity: Identity }> {
  // A password change interrupted between rekey and rename leaves keyfile.new as the valid one.
  const pending = `${paths.keyfile}.new`;
  const candidates: { path: string; content: KeyfileContent }[] = [{ path: paths.keyfile, content: readKeyfile(paths) }];
  if (existsSync(pending)) {
    try {
      candidates.push({ path: pending, content: parseKeyfile(readFileSync(pending, "utf8")) });
    } catch {
      rmSync(pending, { force: true });
    }
  }
  let lastError: unknown = new WrongPasswordError();
  for (const candidate of candidates) {
    const key = await unlockKeyfile(password, candidate.content);
    if (!key) continue;
    try {
      const db = openDatabase(paths.store, key, { create: false });
      if (candidate.path === pending) renameSync(pending, paths.keyfile);
      else rmSync(pending, { force: true });
      const identity = readIdentity(db);
      keySink?.(key);
      return { db, identity };
    } catch (error) {
      lastError = error;
    } finally {
      key.fill(0);
    }
  }
  throw lastError;
}

function readIdentity(db: Db): Identity {
  const row = db.prepare<[], { name: string; private_key: Buffer; public_key: Buffer }>("SELECT name, private_key, public_key FROM identity WHERE id = 1").get();
  if (!row) {
    db.close();
    throw new CorruptStoreError("the store has no identity record");
  }
  return toIdentity(row.name, Buffer.from(row.private_key), Buffer.from(row.public_key));
}

/** Checks a password without opening the store (delete, export). */
export async function verifyPassword(paths: ProfilePaths, password: string): Promise<void> {
  const key = await unlockKeyfile(password, readKeyfile(paths));
  if (!key) throw new WrongPasswordError();
  key.fill(0);
}

/**
 * Re-encrypts the open store under a key from the new password. The new keyfile is written
 * beside the old one first and renamed into place last, so a crash leaves a usable pair.
 */
export async function changePassword(paths: ProfilePaths, store: Store, oldPassword: string, newPassword: string, keySink?: KeySink): Promise<void> {
  await verifyPassword(paths, oldPassword);
  checkNewPassword(newPassword);
  const { keyfile, key } = await newKeyfile(newPassword, readKeyfile(paths).params);
  const pending = `${paths.keyfile}.new`;
  try {
    writeFileAtomic(pending, JSON.stringify(keyfile));
    store.rekey(key);
    renameSync(pending, paths.keyfile);
    keySink?.(key);
  } finally {
    key.fill(0);
  }
}

/**
 * Opens the store with a key derived earlier (handed back by the supervisor after a crash),
 * without Argon2. A key that no longer matches the keyfile (the password changed) is refused.
 */
export function openAccountWithKey(paths: ProfilePaths, key: Buffer): { db: Db; identity: Identity } {
  if (!keyMatchesKeyfile(key, readKeyfile(paths))) throw new WrongPasswordError("the handed-over store key does not match the keyfile");
  const db = openDatabase(paths.store, key, { create: false });
  return { db, identity: readIdentity(db) };
}

export function deleteAccountFiles(paths: ProfilePaths): void {
  for (const file of [paths.store, `${paths.store}-wal`, `${paths.store}-shm`, paths.keyfile, `${paths.keyfile}.new`]) rmSync(file, { force: true });
}

/* Account archive: "JARVISA1" | salt(16) | nonce(12) | tag(16) | ChaCha20-Poly1305(JSON manifest). */
const ARCHIVE_MAGIC = Buffer.from("JARVISA1");
const ARCHIVE_MEMBERS = new Set(["store.db", "keyfile"]);
const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;
// The archive header records no KDF parameters, so both ends use the default: an archive that
// leaves the machine is never protected by a profile's (possibly cheap, test-only) parameters.
const ARCHIVE_KDF = DEFAULT_KDF;

export async function exportArchive(paths: ProfilePaths, store: Store, password: string): Promise<Buffer> {
  await verifyPassword(paths, password);
  store.checkpoint();
  const manifest = JSON.stringify({
    version: 1,
    files: [
      { name: "keyfile", data: readFileSync(paths.keyfile).toString("base64") },
      { name: "store.db", data: readFileSync(paths.store).toString("base64") },
    ],
  });
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const key = await deriveKey(password, salt, ARCHIVE_KDF);
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  cipher.setAAD(ARCHIVE_MAGIC, { plaintextLength: Buffer.byteLength(manifest) });
  const body = Buffer.concat([cipher.update(manifest, "utf8"), cipher.final()]);
  key.fill(0);
  return Buffer.concat([ARCHIVE_MAGIC, salt, nonce, cipher.getAuthTag(), body]);
}

/**
 * Restores an archive into a profile without an identity. Members are plain names from a
 * fixed list: anything with a path, "..", or an unexpected name is refused, and a symlink
 * where a member would go is refused rather than followed.
 */
export async function importArchive(paths: ProfilePaths, archive: Uint8Array, password: string): Promise<void> {
  if (identityExists(paths) || existsSync(paths.store)) throw new AlreadyExistsError("this profile already has an identity; delete it first", "identity-exists");
  const bytes = Buffer.from(archive);
  if (bytes.length < 52 || bytes.length > MAX_ARCHIVE_BYTES || !bytes.subarray(0, 8).equals(ARCHIVE_MAGIC)) {
    throw new InvalidArgumentError("not a Jarvis account archive", "bad-archive");
  }
  const salt = bytes.subarray(8, 24);
  const nonce = bytes.subarray(24, 36);
  const tag = bytes.subarray(36, 52);
  const key = await deriveKey(password, salt, ARCHIVE_KDF);
  let manifest: { version: number; files: { name: string; data: string }[] };
  try {
    const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    decipher.setAAD(ARCHIVE_MAGIC, { plaintextLength: bytes.length - 52 });
    decipher.setAuthTag(tag);
    manifest = JSON.parse(Buffer.concat([decipher.update(bytes.subarray(52)), decipher.final()]).toString("utf8")) as typeof manifest;
  } catch {
    throw new WrongPasswordError("wrong password or damaged archive");
  } finally {
    key.fill(0);
  }
  if (manifest.version !== 1 || !Array.isArray(manifest.files)) throw new InvalidArgumentError("unsupported archive version", "bad-archive");
  const names = manifest.files.map((f) => f.name);
  for (const name of names) {
    if (typeof name !== "string" || name !== basename(name) || name.includes("..") || name.startsWith("/") || !ARCHIVE_MEMBERS.has(name)) {
      throw new InvalidArgumentError(`archive member "${String(name).slice(0, 64)}" is not allowed`, "bad-archive");
    }
  }
  if (new Set(names).size !== ARCHIVE_MEMBERS.size || names.length !== ARCHIVE_MEMBERS.size) throw new InvalidArgumentError("archive is incomplete", "bad-archive");
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

function readKeyfile(paths: ProfilePaths): KeyfileContent {
  if (!existsSync(paths.keyfile)) throw new NotFoundError("no identity in this profile: run jarvis init", "no-identity");
  try {
    return parseKeyfile(readFileSync(paths.keyfile, "utf8"));
  } catch (error) {
    throw new CorruptStoreError(`the keyfile is damaged: ${(error as Error).message}`, { cause: error });
  }
}

function newStaticKeyPair(): { privateKey: Buffer; publicKey: Buffer } {
  // Ask for the encodings at generation time: exporting a freshly generated KeyObject later
  // can deadlock on Node 20 when a GC runs during the export.
  const { privateKey, publicKey } = generateKeyPairSync("x25519", {
    privateKeyEncoding: { format: "der", type: "pkcs8" },
    publicKeyEncoding: { format: "der", type: "spki" },
  });
  return { privateKey: Buffer.from(privateKey.subarray(PKCS8_X25519_PREFIX.length)), publicKey: Buffer.from(publicKey.subarray(12)) };
}

export function publicKeyOf(privateKey: Buffer): Buffer {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]), format: "der", type: "pkcs8" });
  return Buffer.from(createPublicKey(key).export({ format: "der", type: "spki" }).subarray(12));
}

function toIdentity(name: string, privateKey: Buffer, publicKey: Buffer): Identity {
  return { uid: uidFromPublicKey(publicKey), name, publicKey, privateKey, fingerprint: fingerprintOf(publicKey) };
}

/** Whether the keyfile's KDF parameters are cheaper than the default (test profiles). */
export function hasWeakKdf(paths: ProfilePaths): boolean {
  try {
    const { params } = readKeyfile(paths);
    return params.memoryKiB < DEFAULT_KDF.memoryKiB || params.iterations < DEFAULT_KDF.iterations;
  } catch {
    // No or a damaged keyfile: status must still answer; unlock reports the damage.
    return false;
  }
}
