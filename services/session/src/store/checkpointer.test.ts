import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkpointerOf, openDatabase, storeCipher, type Db } from "./database.js";
import { Checkpointer } from "./checkpointer.js";
import { Store } from "./store.js";

const WAIT = { timeout: 20_000, interval: 10 };
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A store of our own (its key known to the test), removed after the test. */
function openStore(): { db: Db; store: Store; path: string; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "jv-ckpt-"));
  const path = join(dir, "store.db");
  const key = randomBytes(32);
  const db = openDatabase(path, key, { create: true });
  const store = new Store(db, Date.now);
  cleanups.push(() => {
    if (db.open) store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, store, path, key };
}

function writeSettings(store: Store, count: number): void {
  for (let i = 0; i < count; i++) store.uow.tx(() => store.settings.set(`key-${i % 50}`, `value ${i}`));
}

function walSalt(path: string): string {
  const header = Buffer.alloc(8);
  const fd = openSync(`${path}-wal`, "r");
  try {
    readSync(fd, header, 0, 8, 16);
  } finally {
    closeSync(fd);
  }
  return header.toString("hex");
}

const walFrames = (path: string) => (existsSync(`${path}-wal`) ? Math.max(0, (statSync(`${path}-wal`).size - 32) / (24 + 4096)) : 0);

describe("the WAL checkpoint worker", () => {
  it("checkpoints what the store commits, so no commit on the main connection runs a checkpoint", async () => {
    const { store, db } = openStore();
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    const checkpointer = checkpointerOf(db) as Checkpointer;
    writeSettings(store, 20);
    await vi.waitFor(() => expect(checkpointer.progress.checkpoints).toBeGreaterThan(0), WAIT);
    // Nothing is left for this connection to copy: the worker did it.
    const [result] = db.pragma("wal_checkpoint(PASSIVE)") as { log: number; checkpointed: number }[];
    expect(result?.log).toBeGreaterThan(0);
    expect(result?.checkpointed).toBe(result?.log);
  });

  it("keeps the WAL bounded while commits never pause", async () => {
    const { store, db, path, key } = openStore();
    checkpointerOf(db)?.stop();
    // A worker of its own that catches up past 100 frames and forces a restart past 400.
    const checkpointer = new Checkpointer(path, storeCipher(db), key, { delayMs: 1, catchUpFrames: 100, restartFrames: 400 });
    cleanups.push(() => checkpointer.stop());
    writeSettings(store, 1);
    checkpointer.committed();
    await vi.waitFor(() => expect(checkpointer.progress.checkpoints).toBe(1), WAIT);
    // Commits back to back, never yielding: the worker runs on its own thread meanwhile.
    let largest = 0;
    let commits = 0;
    const salts = new Set<string>();
    for (; checkpointer.progress.checkpoints < 20; commits++) {
      if (commits > 200_000) throw new Error("the worker never checkpointed");
      store.uow.tx(() => store.settings.set(`key-${commits % 300}`, `value ${commits}`));
      checkpointer.committed();
      if (commits % 10 === 0) {
        largest = Math.max(largest, walFrames(path));
        salts.add(walSalt(path));
      }
    }
    // Each restart starts the WAL over under a new salt; without one every commit would have
    // added its frames to a WAL that only grows.
    expect(salts.size).toBeGreaterThan(3);
    expect(largest).toBeLessThan(commits);
    expect(checkpointer.failed).toBe(false);
  });

  it("waits after a failed transaction until the next commit (a full disk stays full for the store)", () => {
    const { store, db } = openStore();
    const checkpointer = checkpointerOf(db) as Checkpointer;
    writeSettings(store, 1);
    expect(checkpointer.held).toBe(false);
    expect(() =>
      store.uow.tx(() => {
        store.settings.set("key", "value");
        throw new Error("refused");
      }),
    ).toThrow("refused");
    expect(checkpointer.held).toBe(true);
    writeSettings(store, 1);
    expect(checkpointer.held).toBe(false);
  });

  it("stops with the store: the store's close is the last connection, which removes the WAL", async () => {
    const { store, db, path } = openStore();
    writeSettings(store, 10);
    const checkpointer = checkpointerOf(db) as Checkpointer;
    await vi.waitFor(() => expect(checkpointer.progress.checkpoints).toBeGreaterThan(0), WAIT);
    expect(existsSync(`${path}-wal`)).toBe(true);
    store.close();
    // Another open connection (a worker still running) would have kept it.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it("lets a full checkpoint (export, rekey) run while it works, and that one empties the WAL", async () => {
    const { store, db, path } = openStore();
    writeSettings(store, 200);
    store.checkpoint();
    expect(statSync(`${path}-wal`).size).toBe(0);
    writeSettings(store, 10);
    const checkpointer = checkpointerOf(db) as Checkpointer;
    await vi.waitFor(() => expect(checkpointer.progress.checkpoints).toBeGreaterThan(0), WAIT);
    store.checkpoint();
    expect(statSync(`${path}-wal`).size).toBe(0);
  });

  it("starts again under the new key after a rekey, and the store reopens with that key", async () => {
    const { store, db, path } = openStore();
    writeSettings(store, 10);
    const newKey = randomBytes(32);
    store.rekey(newKey);
    const replaced = checkpointerOf(db) as Checkpointer;
    writeSettings(store, 10);
    await vi.waitFor(() => expect(replaced.progress.checkpoints).toBeGreaterThan(0), WAIT);
    expect(replaced.failed).toBe(false);
    store.close();
    const reopened = openDatabase(path, newKey, { create: false });
    expect(reopened.prepare("SELECT value FROM settings WHERE key = 'key-9'").get()).toEqual({ value: "value 9" });
    reopened.close();
  });

  it("reports a worker that fails instead of swallowing it", async () => {
    const { db, path } = openStore();
    const wrongKey = randomBytes(32);
    const checkpointer = new Checkpointer(path, storeCipher(db), wrongKey);
    cleanups.push(() => checkpointer.stop());
    const failures: Error[] = [];
    checkpointer.onFailure((error) => failures.push(error));
    checkpointer.committed();
    await vi.waitFor(() => expect(failures).toHaveLength(1), WAIT);
    expect(failures[0]?.message).toMatch(/WAL checkpoint worker failed: .*not a database/);
    expect(checkpointer.failed).toBe(true);
  });
});
