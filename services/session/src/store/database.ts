import { existsSync, chmodSync } from "node:fs";
import Database from "better-sqlite3-multiple-ciphers";
import { AlreadyExistsError, CorruptStoreError, NotFoundError } from "@jarvis/core";
import { MIGRATIONS } from "./migrations.js";

export type Db = Database.Database;

/**
 * Opens the encrypted store (SQLite3MultipleCiphers, ChaCha20-Poly1305 pages; the main file,
 * WAL and journal are all encrypted). The key has already been checked against the keyfile
 * verifier, so a failure to read here means the file is damaged — never recreated over.
 */
export function openDatabase(path: string, key: Buffer, options: { create: boolean }): Db {
  const exists = existsSync(path);
  if (options.create && exists) throw new AlreadyExistsError("a store already exists in this profile");
  if (!options.create && !exists) throw new NotFoundError("no store in this profile: create an identity first", "no-identity");
  let db: Db;
  try {
    db = new Database(path, { fileMustExist: !options.create });
  } catch (error) {
    throw new CorruptStoreError(`cannot open the store: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma("cipher='chacha20'");
    db.pragma(`hexkey='${key.toString("hex")}'`);
    // The first real read is where a damaged or foreign file shows itself.
    db.prepare("SELECT count(*) AS n FROM sqlite_master").get();
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Temporary b-trees (a multi-row RETURNING's buffer, IN lists, sorts) in memory, not in a
    // temp file: the file cost ~30 µs per statement (an Ack's DELETE … RETURNING: 40 → 7 µs),
    // and it would hold plaintext rows outside the encrypted store.
    db.pragma("temp_store = MEMORY");
    migrate(db);
  } catch (error) {
    db.close();
    if (error instanceof CorruptStoreError) throw error;
    throw new CorruptStoreError(`the store is damaged or unreadable (${(error as Error).message}); it was left untouched`, { cause: error });
  }
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  }
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new CorruptStoreError(`the store has schema version ${version}, newer than this Jarvis knows (${MIGRATIONS.length})`);
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next] as string);
      db.pragma(`user_version = ${next + 1}`);
    })();
  }
}

/** Re-encrypts every page under a new key (ChangePassword). */
export function rekeyDatabase(db: Db, key: Buffer): void {
  // Rekeying is done outside WAL mode, where every page is rewritten in the main file.
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.pragma("journal_mode = DELETE");
  db.pragma(`hexrekey='${key.toString("hex")}'`);
  db.pragma("journal_mode = WAL");
}

/** Folds the WAL into the main file so the file alone is a complete snapshot. */
export function checkpoint(db: Db): void {
  db.pragma("wal_checkpoint(TRUNCATE)");
}
