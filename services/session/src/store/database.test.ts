import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3-multiple-ciphers";
import { afterEach, describe, expect, it } from "vitest";
import { CorruptStoreError } from "@jarvis/core";
import { MIGRATIONS } from "./migrations.js";
import { checkpoint, openDatabase, storeCipher } from "./database.js";

const MARKER = "plaintext-marker-7f3a";
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "jv-db-"));
  dirs.push(dir);
  return dir;
}

const digest = (path: string) => (existsSync(path) ? createHash("sha256").update(readFileSync(path)).digest("hex") : "absent");

/** A settings row carrying MARKER (a table of the real schema). */
function addMarkedContact(db: Database.Database): void {
  db.prepare("INSERT INTO settings (key, value) VALUES (?, ?)").run("marker", MARKER);
}

describe("the store's cipher", () => {
  it("writes a new store with AEGIS-256, and no page of it is readable without the key", () => {
    const path = join(tempDir(), "store.db");
    const db = openDatabase(path, randomBytes(32), { create: true });
    expect(storeCipher(db)).toBe("aegis");
    addMarkedContact(db);
    checkpoint(db);
    db.close();
    const bytes = readFileSync(path);
    expect(bytes.includes(Buffer.from(MARKER))).toBe(false);
    expect(bytes.subarray(0, 16).toString("latin1")).not.toBe("SQLite format 3\0");
  });

  it("opens a store an earlier version made with ChaCha20, rows still in its WAL included, and keeps its cipher", () => {
    const made = tempDir();
    const key = randomBytes(32);
    const db = new Database(join(made, "store.db"));
    db.pragma("cipher='chacha20'");
    db.pragma(`hexkey='${key.toString("hex")}'`);
    db.pragma("journal_mode = WAL");
    db.pragma("wal_autocheckpoint = 0");
    for (const sql of MIGRATIONS) db.exec(sql);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
    addMarkedContact(db);
    // As if the process had died here: the files as they are, the WAL not folded in.
    const copy = tempDir();
    for (const suffix of ["", "-wal"]) copyFileSync(join(made, "store.db" + suffix), join(copy, "store.db" + suffix));
    db.close();
    expect(readFileSync(join(copy, "store.db-wal")).length).toBeGreaterThan(0);

    const reopened = openDatabase(join(copy, "store.db"), key, { create: false });
    expect(storeCipher(reopened)).toBe("chacha20");
    expect(reopened.prepare("SELECT value FROM settings WHERE key = 'marker'").get()).toEqual({ value: MARKER });
    reopened.prepare("INSERT INTO settings (key, value) VALUES ('after', 'yes')").run();
    reopened.close();
    const again = openDatabase(join(copy, "store.db"), key, { create: false });
    expect(storeCipher(again)).toBe("chacha20");
    expect(again.prepare("SELECT count(*) AS n FROM settings WHERE key IN ('marker', 'after')").get()).toEqual({ n: 2 });
    again.close();
  });

  it("refuses a wrong key with either cipher as a damaged store and changes no byte of it", () => {
    for (const cipher of ["aegis", "chacha20"]) {
      const path = join(tempDir(), "store.db");
      const key = randomBytes(32);
      const db = new Database(path);
      db.pragma(`cipher='${cipher}'`);
      db.pragma(`hexkey='${key.toString("hex")}'`);
      db.pragma("journal_mode = WAL");
      db.exec(MIGRATIONS[0] as string);
      db.pragma("user_version = 1");
      db.close();
      const before = ["", "-wal"].map((suffix) => digest(path + suffix));
      expect(() => openDatabase(path, randomBytes(32), { create: false })).toThrow(CorruptStoreError);
      expect(["", "-wal"].map((suffix) => digest(path + suffix))).toEqual(before);
      // The right key still opens it afterwards.
      const good = openDatabase(path, key, { create: false });
      expect(storeCipher(good)).toBe(cipher);
      good.close();
    }
  });
});
