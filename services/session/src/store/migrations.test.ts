import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3-multiple-ciphers";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "./migrations.js";
import { openDatabase } from "./database.js";
import { OutboxRepo } from "../messages/outbox-repo.js";
import { Store } from "./store.js";
import type { Message } from "../model.js";

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

describe("migration 10: messages and events without AUTOINCREMENT", () => {
  it("keeps every row and the unread counts, and never hands out a position or cursor used before", () => {
    const { path, key } = storeAtVersion(9, (db) => {
      const insert = db.prepare(
        "INSERT INTO messages (id, conversation_id, sender_uid, outgoing, text, state, sequence, sent_at, received_at, read) VALUES (?, ?, ?, 0, 'hi', 5, ?, 1, 1, 0)",
      );
      for (let i = 1; i <= 4; i++) insert.run(`m${i}`, "bob", "bob", i);
      insert.run("g1", "gone", "carol", 1);
      // The newest message left with its group; AUTOINCREMENT remembered position 5.
      db.prepare("DELETE FROM messages WHERE conversation_id = 'gone'").run();
      const event = db.prepare("INSERT INTO events (payload, created_at, message_position) VALUES ('{\"type\":\"message_received\"}', 1, ?)");
      for (let i = 1; i <= 6; i++) event.run(i <= 4 ? i : null);
      db.prepare("DELETE FROM events WHERE cursor = 6").run();
    });
    const db = openDatabase(path, key, { create: false });
    const store = new Store(db, () => 1);
    cleanups.push(() => store.close());
    expect(db.pragma("user_version", { simple: true })).toBe(10);
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE name IN ('messages', 'events')").all() as { sql: string }[];
    expect(tables).toHaveLength(2);
    expect(tables.filter((t) => /AUTOINCREMENT/i.test(t.sql))).toEqual([]);
    expect(store.messages.page("bob", { before: 0, after: 0, limit: 10 }).messages.map((m) => [m.position, m.id])).toEqual([
      [1, "m1"],
      [2, "m2"],
      [3, "m3"],
      [4, "m4"],
    ]);
    expect(store.messages.unreadCounts().total).toBe(4);
    const received = store.uow.tx(() => {
      const message = store.messages.insert({ id: "m5", conversationId: "bob", senderUid: "bob", outgoing: false, text: "new", state: "received", sequence: 5, sentAt: 2, receivedAt: 2, read: false });
      store.uow.emit({ type: "message_received", message: message as Message });
      return message as Message;
    });
    // Position 5 was a deleted message's, cursor 6 a deleted event's: neither comes back.
    expect(received.position).toBe(6);
    expect(store.events.latestCursor()).toBe(7);
    // The unread trigger was made again with the new table.
    expect(store.messages.unreadCounts().total).toBe(5);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_sequence WHERE name IN ('messages', 'events')").get()).toEqual({ n: 0 });
  });
});

describe("message positions", () => {
  it("are never handed out again after the newest messages are deleted, across a reopen", () => {
    const { path, key } = storeAtVersion(MIGRATIONS.length, () => undefined);
    const send = (store: Store, id: string, conversationId: string) =>
      store.uow.tx(() => store.messages.insert({ id, conversationId, senderUid: "me", outgoing: true, text: "x", state: "queued", sequence: 1, sentAt: 1, receivedAt: 1, read: true }) as Message).position;
    const first = new Store(openDatabase(path, key, { create: false }), () => 1);
    expect([send(first, "a1", "alice"), send(first, "g1", "group"), send(first, "g2", "group")]).toEqual([1, 2, 3]);
    first.uow.tx(() => first.messages.deleteConversation("group"));
    expect(send(first, "a2", "alice")).toBe(4);
    first.uow.tx(() => first.messages.deleteConversation("alice"));
    first.close();
    const reopened = new Store(openDatabase(path, key, { create: false }), () => 1);
    cleanups.push(() => reopened.close());
    expect(send(reopened, "a3", "alice")).toBe(5);
    // A rolled-back insert gives its position back: the next one takes it, no gap, no duplicate.
    expect(() =>
      reopened.uow.tx(() => {
        send(reopened, "a4", "alice");
        throw new Error("rolled back");
      }),
    ).toThrow("rolled back");
    expect(send(reopened, "a5", "alice")).toBe(6);
  });
});
