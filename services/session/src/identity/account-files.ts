import { generateKeyPairSync, createPublicKey, createPrivateKey } from "node:crypto";
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, renameSync } from "node:fs";
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
import { DEFAULT_KDF, keyMatchesKeyfile, newKeyfile, parseKeyfile, unlockKeyfile, type KdfParams, type KeyfileContent } from "../store/key-derivation.js";
import type { Identity } from "../model.js";
import { MIN_PASSWORD_LENGTH } from "../constants.js";

/**
 * The files of an account: keyfile (salt, KDF parameters, verifier) and the encrypted store.
 * Every operation either completes or leaves the files as they were.
 */

const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

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
  recoverInterruptedRekey(paths);
  // A password change interrupted after the rekey, before the rename, leaves keyfile.new as the valid one.
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
 * Re-encrypts the open store under a key from the new password, crash-safely. An in-place
 * rekey is not atomic (a kill halfway leaves pages under both keys), so:
 *   1. the store, checkpointed, is copied to store.db.old (under the old key);
 *   2. keyfile.new (new salt) is written beside the keyfile;
 *   3. the store is rekeyed in place;
 *   4. keyfile.new is renamed over the keyfile — the commit point;
 *   5. store.db.old is removed.
 * recoverInterruptedRekey() undoes a change killed before 4 and finishes one killed after it,
 * so after any kill the old or the new password opens the store with everything in it.
 */
export async function changePassword(paths: ProfilePaths, store: Store, oldPassword: string, newPassword: string, keySink?: KeySink): Promise<void> {
  await verifyPassword(paths, oldPassword);
  checkNewPassword(newPassword);
  const { keyfile, key } = await newKeyfile(newPassword, readKeyfile(paths).params);
  const pending = `${paths.keyfile}.new`;
  const backup = `${paths.store}.old`;
  try {
    // From here on everything is synchronous: no write can slip in between copy and rekey.
    store.checkpoint();
    copyDurably(paths.store, backup);
    writeFileAtomic(pending, JSON.stringify(keyfile));
    store.rekey(key);
    renameSync(pending, paths.keyfile);
    rmSync(backup, { force: true });
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

/**
 * Puts the files of a password change that was killed back into a state one password opens.
 * store.db.old with keyfile.new beside it: the change had not committed — the copy (old key)
 * goes back in place of the possibly half-rekeyed store. store.db.old alone: the change had
 * committed (or not begun to touch the store) — the copy is stale. Each step is idempotent,
 * so a kill during recovery is recovered by the next open.
 */
export function recoverInterruptedRekey(paths: ProfilePaths): void {
  const backup = `${paths.store}.old`;
  const pending = `${paths.keyfile}.new`;
  rmSync(`${backup}.tmp`, { force: true });
  if (!existsSync(backup)) return;
  if (existsSync(pending)) {
    for (const suffix of ["-journal", "-wal", "-shm"]) rmSync(paths.store + suffix, { force: true });
    renameSync(backup, paths.store);
    rmSync(pending, { force: true });
  } else {
    rmSync(backup, { force: true });
  }
}

/** Copies a file so that the copy is complete and on disk before it appears under its name. */
function copyDurably(from: string, to: string): void {
  const temp = `${to}.tmp`;
  copyFileSync(from, temp);
  const fd = openSync(temp, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, to);
}

export function deleteAccountFiles(paths: ProfilePaths): void {
  for (const file of [paths.store, `${paths.store}-wal`, `${paths.store}-shm`, `${paths.store}-journal`, `${paths.store}.old`, paths.keyfile, `${paths.keyfile}.new`]) {
    rmSync(file, { force: true });
  }
}

export function readKeyfile(paths: ProfilePaths): KeyfileContent {
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
