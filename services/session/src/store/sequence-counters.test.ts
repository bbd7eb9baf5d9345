import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "./database.js";
import { Store } from "./store.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A store whose key the test knows, so it can be closed and opened again. */
function storeFiles(): { open: () => { db: Db; store: Store } } {
  const dir = mkdtempSync(join(tmpdir(), "jv-seq-"));
  const key = randomBytes(32);
  let created = false;
  const open = () => {
    const db = openDatabase(join(dir, "store.db"), key, { create: !created });
    created = true;
    const store = new Store(db, Date.now);
    cleanups.push(() => {
      if (db.open) store.close();
    });
    return { db, store };
  };
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return { open };
}

function addContact(store: Store, uid: string): void {
  store.uow.tx(() => store.contacts.insert({ uid, publicKey: randomBytes(32), name: uid, alias: "", addresses: [], addedAt: 1, groupOnly: false }));
}

/** Sends one of our messages the way Conversations does: its number, then its row. */
function send(store: Store, conversationId: string): number {
  const sequence = store.contacts.takeSequence(conversationId);
  const id = randomBytes(16).toString("hex");
  store.messages.insert({ id, conversationId, senderUid: "me", outgoing: true, text: "hi", state: "queued", sequence, sentAt: 1, receivedAt: 1, read: true });
  return sequence;
}

const totalChanges = (db: Db) => (db.prepare("SELECT total_changes() AS n").get() as { n: number }).n;

describe("sequence numbers of our messages", () => {
  it("count from 1 per conversation, and taking one writes nothing", () => {
    const { db, store } = storeFiles().open();
    addContact(store, "alice");
    addContact(store, "bob");
    const before = totalChanges(db);
    const taken = [store.contacts.takeSequence("alice"), store.contacts.takeSequence("alice"), store.contacts.takeSequence("bob"), store.groups.takeSequence("g1")];
    expect(taken).toEqual([1, 2, 1, 1]);
    expect(totalChanges(db)).toBe(before);
  });

  it("go on after a reopen from our newest message, or from the counter an earlier version stored if that is further", () => {
    const files = storeFiles();
    const first = files.open();
    addContact(first.store, "alice");
    addContact(first.store, "bob");
    first.store.uow.tx(() => {
      for (let i = 0; i < 3; i++) send(first.store, "alice");
      send(first.store, "bob");
    });
    // An earlier version kept bob's counter in his row, and had handed out up to 41.
    first.db.prepare("UPDATE contacts SET next_sequence = 42 WHERE uid = 'bob'").run();
    first.store.close();
    const { store } = files.open();
    // The peer's messages after ours do not count.
    store.uow.tx(() => store.messages.insert({ id: "p1", conversationId: "alice", senderUid: "alice", outgoing: false, text: "yo", state: "received", sequence: 9, sentAt: 1, receivedAt: 1, read: false }));
    expect(store.uow.tx(() => send(store, "alice"))).toBe(4);
    expect(store.uow.tx(() => send(store, "bob"))).toBe(42);
  });

  it("leave neither a gap nor a duplicate when a message that took one is rolled back", () => {
    const { store } = storeFiles().open();
    addContact(store, "alice");
    const taken: number[] = [];
    store.uow.tx(() => {
      taken.push(send(store, "alice"));
      expect(() =>
        store.uow.tx(() => {
          taken.push(send(store, "alice"));
          throw new Error("this send fails after taking its number");
        }),
      ).toThrow("fails");
      taken.push(send(store, "alice"));
    });
    expect(() =>
      store.uow.tx(() => {
        send(store, "alice");
        throw new Error("a whole transaction rolled back");
      }),
    ).toThrow("rolled back");
    taken.push(store.uow.tx(() => send(store, "alice")));
    expect(taken).toEqual([1, 2, 2, 3]);
    expect(store.messages.page("alice", { before: 0, after: 0, limit: 10 }).messages.map((m) => m.sequence)).toEqual([1, 2, 3]);
  });
});
