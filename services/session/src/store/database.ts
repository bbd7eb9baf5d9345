import { existsSync, chmodSync } from "node:fs";
import Database from "better-sqlite3-multiple-ciphers";
import { AlreadyExistsError, CorruptStoreError, NotFoundError, UnavailableError } from "@jarvis/core";
import { MIGRATIONS } from "./migrations.js";
import { Checkpointer } from "./checkpointer.js";

export type Db = Database.Database;

/** SQLite's own wal_autocheckpoint (pages), restored on this connection if the checkpoint worker fails. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
/**
 * The WAL file is cut back to this when it restarts after a burst made it larger. Above what
 * a steady load leaves before the checkpoint worker restarts it (WAL_CATCH_UP_FRAMES, ~17 MB
 * and a little more), so that the commit after each restart does not truncate the file and
 * the next ones grow it again.
 */
const WAL_SIZE_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * The cipher of new stores: AEGIS-256 (SQLite3MultipleCiphers "aegis"), authenticated per
 * page like ChaCha20-Poly1305 but on the CPU's AES instructions. A commit encrypts every page
 * it dirties, and the commit was the largest single cost of sending and receiving: a
 * 16-message commit took 235–385 µs of CPU against 438–551 µs with ChaCha20 (interleaved,
 * this 2-core machine), about what no encryption costs.
 */
const STORE_CIPHER = "aegis";
/** Ciphers of stores made by earlier versions, still read and written with their own. */
const EARLIER_CIPHERS = ["chacha20"];

/**
 * Opens the encrypted store (the main file, WAL and journal are all encrypted). The key has
 * already been checked against the keyfile verifier, so a failure to read here means the file
 * is damaged — never recreated over. An existing store is tried with each known cipher in
 * turn: one that is not its own reads page 1 as "not a database" and changes nothing.
 */
export function openDatabase(path: string, key: Buffer, options: { create: boolean }): Db {
  const exists = existsSync(path);
  if (options.create && exists) throw new AlreadyExistsError("a store already exists in this profile");
  if (!options.create && !exists) throw new NotFoundError("no store in this profile: create an identity first", "no-identity");
  const ciphers = options.create ? [STORE_CIPHER] : [STORE_CIPHER, ...EARLIER_CIPHERS];
  let db: Db | undefined;
  let lastError: unknown;
  for (const cipher of ciphers) {
    try {
      db = new Database(path, { fileMustExist: !options.create });
    } catch (error) {
      throw new CorruptStoreError(`cannot open the store: ${(error as Error).message}`, { cause: error });
    }
    try {
      db.pragma(`cipher='${cipher}'`);
      db.pragma(`hexkey='${key.toString("hex")}'`);
      // The first real read is where a wrong cipher, a damaged or a foreign file shows itself.
      db.prepare("SELECT count(*) AS n FROM sqlite_master").get();
      break;
    } catch (error) {
      db.close();
      db = undefined;
      lastError = error;
      if ((error as { code?: string }).code !== "SQLITE_NOTADB") break;
    }
  }
  if (!db) {
    throw new CorruptStoreError(`the store is damaged or unreadable (${(lastError as Error).message}); it was left untouched`, { cause: lastError });
  }
  try {
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
  checkpointInWorker(db, path, key);
  // Closing the connection stops its worker first, whoever closes it (Store, or a failed open
  // in the account code), so no worker outlives its store.
  const close = db.close.bind(db);
  db.close = () => {
    checkpointers.get(db)?.stop();
    return close();
  };
  return db;
}

/** The worker checkpointing each open store (Store tells it of commits, rekey replaces it). */
const checkpointers = new WeakMap<Db, Checkpointer>();

export function checkpointerOf(db: Db): Checkpointer | undefined {
  return checkpointers.get(db);
}

/**
 * Hands the store's checkpoints to a worker (checkpointer.ts): this connection no longer runs
 * one inside a COMMIT. If the worker fails, it does again, so the WAL stays bounded.
 */
function checkpointInWorker(db: Db, path: string, key: Buffer): void {
  const checkpointer = new Checkpointer(path, storeCipher(db), key);
  checkpointers.set(db, checkpointer);
  db.pragma("wal_autocheckpoint = 0");
  // A WAL that grew in a burst is cut back to this size when it next restarts.
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  checkpointer.onFailure(() => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  });
}

/** The cipher an open store's pages are written with (a store keeps the one it was made with). */
export function storeCipher(db: Db): string {
  return String(db.pragma("cipher", { simple: true }));
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

/**
 * Re-encrypts every page under a new key (ChangePassword). The checkpoint worker holds a
 * connection under the old key, so it stops first and a new one starts under the new key.
 */
export function rekeyDatabase(db: Db, key: Buffer): void {
  const worker = checkpointers.get(db);
  worker?.stop();
  // Rekeying is done outside WAL mode, where every page is rewritten in the main file.
  truncatingCheckpoint(db);
  db.pragma("journal_mode = DELETE");
  db.pragma(`hexrekey='${key.toString("hex")}'`);
  db.pragma("journal_mode = WAL");
  if (worker) checkpointInWorker(db, db.name, key);
}

/** Folds the WAL into the main file so the file alone is a complete snapshot. */
export function checkpoint(db: Db): void {
  const worker = checkpointers.get(db);
  if (worker) worker.exclusive(() => truncatingCheckpoint(db));
  else truncatingCheckpoint(db);
}

/**
 * After a write failed on a full disk: a PASSIVE checkpoint on this connection (the worker's
 * round waits or is waited for). True when it copied the whole WAL, so that the next write
 * starts the WAL over and fits in its file; false when it could not (the main file has no room
 * to grow either: the disk is really full), whatever failed — the write's own error stands.
 */
export function checkpointForRoom(db: Db): boolean {
  const attempt = () => {
    try {
      const [result] = db.pragma("wal_checkpoint(PASSIVE)") as { busy: number; log: number; checkpointed: number }[];
      return result !== undefined && result.busy === 0 && result.log > 0 && result.checkpointed === result.log;
    } catch {
      return false;
    }
  };
  const worker = checkpointers.get(db);
  return worker ? worker.exclusive(attempt) : attempt();
}

function truncatingCheckpoint(db: Db): void {
  const [result] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
  if (result && result.busy !== 0) throw new UnavailableError("the store is busy: its WAL could not be checkpointed completely; try again");
}

/**
 * BEGIN/COMMIT and SAVEPOINT/RELEASE as statements prepared once per connection. Not
 * better-sqlite3's db.transaction(fn): that builds four wrapper functions per call, which cost
 * the group commit more per write (~6 µs) than the savepoint itself (~1.5 µs).
 */
export class SqlTransactions {
  readonly #db: Db;
  readonly #begin;
  readonly #commit;
  readonly #rollback;
  readonly #savepoint;
  readonly #release;
  readonly #rollbackTo;

  constructor(db: Db) {
    this.#db = db;
    this.#begin = db.prepare("BEGIN");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
    this.#savepoint = db.prepare('SAVEPOINT "jarvis_write"');
    this.#release = db.prepare('RELEASE "jarvis_write"');
    this.#rollbackTo = db.prepare('ROLLBACK TO "jarvis_write"');
  }

  /** `fn` in a transaction, or nested in a savepoint when one is open: all of it or none of it. */
  run<T>(fn: () => T): T {
    const nested = this.#db.inTransaction;
    (nested ? this.#savepoint : this.#begin).run();
    try {
      const result = fn();
      if (result instanceof Promise) throw new TypeError("a transaction's function cannot return a promise");
      (nested ? this.#release : this.#commit).run();
      return result;
    } catch (error) {
      // SQLite may already have rolled the whole transaction back (SQLITE_FULL, I/O errors).
      if (this.#db.inTransaction) {
        if (nested) {
          this.#rollbackTo.run();
          this.#release.run();
        } else {
          this.#rollback.run();
        }
      }
      throw error;
    }
  }
}
