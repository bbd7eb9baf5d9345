import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3-multiple-ciphers";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "./migrations.js";
import { openDatabase } from "./database.js";
import { OutboxRepo } from "../messages/outbox-repo.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** An encrypted store left at schema `version`, as an older Jarvis wrote it. */
function storeAtVersion(version: number, fill: (db: Database.Database) => void): { path: string; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "jv-migrate-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "store.db");
  const key = randomBytes(32);
  const db = new Database(path);
  db.pragma("cipher='chacha20'");
  db.pragma(`hexkey='${key.toString("hex")}'`);
  db.pragma("journal_mode = WAL");
  for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  fill(db);
  db.close();
  return { path, key };
}

describe("migration 8: the outbox rebuilt with fewer indexes", () => {
  it("keeps every entry, and seqs keep growing while the store is open even when the newest entries leave", () => {
    const { path, key } = storeAtVersion(7, (db) => {
      const insert = db.prepare("INSERT INTO outbox (recipient_uid, ack_id, message_id, payload, needs_ack, created_at, attempts) VALUES (?, ?, ?, ?, 1, 5, ?)");
      for (let i = 1; i <= 5; i++) insert.run("bob", `m${i}`, `m${i}`, Buffer.from(`p${i}`), i);
      insert.run("bob", "receipt", "", Buffer.from("r"), 0);
      // The newest entries were acked.
      db.prepare("DELETE FROM outbox WHERE seq >= 5").run();
    });
    const db = openDatabase(path, key, { create: false });
    cleanups.push(() => db.close());
    expect(db.pragma("user_version", { simple: true })).toBeGreaterThanOrEqual(8);
    const rows = db.prepare("SELECT seq, recipient_uid, ack_id, message_id, payload, attempts FROM outbox ORDER BY seq").all() as { seq: number; ack_id: string; attempts: number }[];
    expect(rows.map((r) => [r.seq, r.ack_id, r.attempts])).toEqual([
      [1, "m1", 1],
      [2, "m2", 2],
      [3, "m3", 3],
      [4, "m4", 4],
    ]);
    const outbox = new OutboxRepo(db);
    expect(outbox.pendingCount("bob")).toBe(4);
    const add = (id: string) => outbox.add({ recipientUid: "bob", ackId: id, messageId: id, payload: Buffer.from(id), needsAck: true, createdAt: 6 });
    expect(add("m7")).toBe(5);
    // The newest entry leaves: a channel that took seq 5 must still see the next one as new.
    expect(outbox.acknowledge("bob", "m7")).toBe("m7");
    expect(add("m8")).toBe(6);
    expect(outbox.acknowledge("bob", "m2")).toBe("m2");
    expect(outbox.remaining("m3")).toBe(1);
    expect(outbox.remaining("m2")).toBe(0);
  });
});
