import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "./database.js";
import { OUTBOX_HOT_QUERIES } from "../messages/outbox-repo.js";
import { MESSAGE_HOT_QUERIES } from "../messages/message-repo.js";
import { REPLAY_QUERY } from "../events/event-log.js";
import { NEWEST_OWN_SEQUENCE } from "./sequence-counters.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function freshDb(): Db {
  const dir = mkdtempSync(join(tmpdir(), "jv-plan-"));
  const db = openDatabase(join(dir, "store.db"), randomBytes(32), { create: true });
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

/** The plan's steps, e.g. "SEARCH outbox USING INDEX outbox_owed (message_id=?)". */
function plan(db: Db, sql: string): string[] {
  const params = (sql.match(/\?/g) ?? []).map(() => 1);
  return db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((row) => (row as { detail: string }).detail);
}

describe("hot queries use an index (EXPLAIN QUERY PLAN on the real encrypted store)", () => {
  const queries: [string, string][] = [
    ...Object.entries(OUTBOX_HOT_QUERIES).map(([name, sql]): [string, string] => [`outbox.${name}`, sql]),
    ...Object.entries(MESSAGE_HOT_QUERIES).map(([name, sql]): [string, string] => [`messages.${name}`, sql]),
    ["events.replay", REPLAY_QUERY],
    ["messages.newestOwnSequence", NEWEST_OWN_SEQUENCE],
  ];

  it.each(queries)("%s searches, never scans a table", (_name, sql) => {
    const steps = plan(freshDb(), sql);
    expect(steps.length).toBeGreaterThan(0);
    // A full SCAN of a table grows with the table; every hot step must be a SEARCH (index or rowid).
    expect(steps.filter((step) => /^SCAN (outbox|messages|events)\b/.test(step))).toEqual([]);
  });

  it("finds an acked entry, and counts what a message is still owed, from the one outbox_by_ack index", () => {
    const db = freshDb();
    expect(plan(db, OUTBOX_HOT_QUERIES.remainingFor).join("\n")).toMatch(/SEARCH outbox USING INDEX outbox_by_ack \(ack_id=\?\)/);
    expect(plan(db, OUTBOX_HOT_QUERIES.deleteAcks).join("\n")).toMatch(/SEARCH outbox USING (COVERING )?INDEX outbox_by_ack \(ack_id=\? AND recipient_uid=\?\)/);
    expect(plan(db, MESSAGE_HOT_QUERIES.advanceAllUnowed).join("\n")).toMatch(/SEARCH outbox USING INDEX outbox_by_ack \(ack_id=\?\)/);
  });

  it("finds a conversation's next sequence walking its index from the newest row, with no sort", () => {
    const steps = plan(freshDb(), NEWEST_OWN_SEQUENCE).join("\n");
    expect(steps).toMatch(/SEARCH messages USING INDEX messages_by_conversation \(conversation_id=\?\)/);
    expect(steps).not.toMatch(/TEMP B-TREE/);
  });

  it("the outbox keeps three b-trees, each serving a hot query: rows by seq, by ack id, by recipient in order", () => {
    const db = freshDb();
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' ORDER BY name").all();
    expect(indexes.map((row) => (row as { name: string }).name)).toEqual(["outbox_by_ack", "outbox_by_recipient"]);
    expect(plan(db, OUTBOX_HOT_QUERIES.forRecipient).join("\n")).toMatch(/SEARCH outbox USING INDEX outbox_by_recipient \(recipient_uid=\? AND seq>\?\)/);
    expect(plan(db, OUTBOX_HOT_QUERIES.deleteBySeq).join("\n")).toMatch(/SEARCH outbox USING INTEGER PRIMARY KEY \(rowid=\?\)/);
  });
});
