import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@jarvis/core";
import { openDatabase, type Db } from "../store/database.js";
import { Store } from "../store/store.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A real encrypted store, and its handle so the test can count rows behind the repo's back. */
function fresh(): { store: Store; db: Db } {
  const dir = mkdtempSync(join(tmpdir(), "jv-outbox-"));
  const db = openDatabase(join(dir, "store.db"), randomBytes(32), { create: true });
  const store = new Store(db, Date.now);
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, db };
}

/** What the store holds: entries to `uid` that are messages still to be acked. */
const counted = (db: Db, uid: string) =>
  (db.prepare("SELECT count(*) AS n FROM outbox WHERE recipient_uid = ? AND needs_ack = 1 AND message_id != ''").get(uid) as { n: number }).n;

let nextId = 0;
const message = (recipientUid: string, id = `m${++nextId}`) => ({ recipientUid, ackId: id, messageId: id, payload: Buffer.from(id), needsAck: true, createdAt: 1 });
const receipt = (recipientUid: string, id = `r${++nextId}`) => ({ recipientUid, ackId: id, messageId: "", payload: Buffer.from(id), needsAck: true, createdAt: 1 });

describe("OutboxRepo owed counts (kept in memory)", () => {
  it("follows every add, replaced payload, ack, removal and dropped recipient, counting messages only", () => {
    const { store, db } = fresh();
    const { outbox, uow } = store;
    uow.tx(() => outbox.add(message("bob", "early"))); // before the first look: read from the store
    expect(outbox.pendingCount("bob")).toBe(1);
    const seqs = uow.tx(() => [outbox.add(message("bob")), outbox.add(message("bob", "m-x")), outbox.add(receipt("bob")), outbox.add(message("carol"))]);
    expect(outbox.pendingCount("bob")).toBe(3);
    // The same ack id again replaces the payload in place: same seq, no new entry.
    expect(uow.tx(() => outbox.add({ ...message("bob", "m-x"), payload: Buffer.from("new") }))).toBe(seqs[1]);
    expect(outbox.pendingCount("bob")).toBe(3);
    expect(uow.tx(() => outbox.acknowledge("bob", "m-x"))).toBe("m-x");
    expect(uow.tx(() => outbox.acknowledge("bob", "m-x"))).toBeUndefined(); // a second ack changes nothing
    expect(outbox.pendingCount("bob")).toBe(2);
    uow.tx(() => outbox.remove(seqs[2] as number)); // the receipt: not counted
    uow.tx(() => outbox.remove(seqs[0] as number));
    expect(outbox.pendingCount("bob")).toBe(1);
    expect(outbox.pendingCount("bob")).toBe(counted(db, "bob"));
    expect(outbox.pendingCount("carol")).toBe(1);
    uow.tx(() => outbox.removeRecipient("carol"));
    expect([outbox.pendingCount("carol"), counted(db, "carol")]).toEqual([0, 0]);
  });

  it("stays exact when a transaction rolls back after moving it", () => {
    const { store, db } = fresh();
    const { outbox, uow } = store;
    uow.tx(() => outbox.add(message("bob", "kept")));
    expect(outbox.pendingCount("bob")).toBe(1);
    let undoneSeq = 0;
    expect(() =>
      uow.tx(() => {
        outbox.add(message("bob"));
        undoneSeq = outbox.add(message("bob"));
        outbox.acknowledge("bob", "kept");
        expect(outbox.pendingCount("bob")).toBe(2); // inside: what this transaction did so far
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(outbox.pendingCount("bob")).toBe(1);
    expect(counted(db, "bob")).toBe(1);
    // A seq handed out in the rolled-back transaction is not handed out again (a gap is fine).
    expect(uow.tx(() => outbox.add(message("bob")))).toBeGreaterThan(undoneSeq);
  });

  it("stays exact when one write of a group commit rolls back and the others commit", async () => {
    const { store, db } = fresh();
    const { outbox, uow } = store;
    expect(outbox.pendingCount("bob")).toBe(0);
    const write = (n: number, fail: boolean) =>
      uow.write(() => {
        for (let i = 0; i < n; i++) outbox.add(message("bob"));
        if (fail) throw new InvalidArgumentError("refused");
      });
    // Requested in the same turn: one transaction, each write in its own savepoint.
    const results = await Promise.allSettled([write(2, false), write(5, true), write(3, false)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outbox.pendingCount("bob")).toBe(5);
    expect(counted(db, "bob")).toBe(5);
    // And it goes on moving from there.
    await write(1, false);
    expect(outbox.pendingCount("bob")).toBe(6);
  });
});
