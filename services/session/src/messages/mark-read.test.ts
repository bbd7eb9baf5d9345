import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { newMessageId } from "@jarvis/core";
import { TestNodes, link } from "../testing/test-nodes.js";
import { openTestStore } from "../testing/open-test-store.js";
import { openDatabase } from "../store/database.js";
import { Store } from "../store/store.js";
import { decodeEnvelope } from "./envelopes.js";
import type { SessionApp } from "../app/session-app.js";
import { MARK_READ_CHUNK, MAX_PAGE } from "../constants.js";

// Real encrypted stores on the in-memory hub; the receipts travel as real envelopes.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

const COUNT = 100_000;

/** Seeds `count` messages alice sent to bob (delivered) and bob received (unread), straight into both stores. */
function seedConversation(alice: SessionApp, bob: SessionApp, count: number): void {
  const aliceUid = alice.identity().identity.uid;
  const bobUid = bob.identity().identity.uid;
  const ids = Array.from({ length: count }, () => newMessageId());
  const base = { senderUid: aliceUid, text: "hello", sentAt: 1, receivedAt: 1 };
  const a = alice.requireUnlocked().store;
  a.uow.tx(() => ids.forEach((id, i) => a.messages.insert({ ...base, id, conversationId: bobUid, outgoing: true, state: "delivered", sequence: i + 1, read: false })));
  const b = bob.requireUnlocked().store;
  b.uow.tx(() => ids.forEach((id, i) => b.messages.insert({ ...base, id, conversationId: aliceUid, outgoing: false, state: "received", sequence: i + 1, read: false })));
}

/** How many of alice's messages to bob are in `state`, counted over every page. */
function countInState(alice: SessionApp, state: string): number {
  let n = 0;
  let before = 0;
  for (;;) {
    const page = alice.listMessages("bob", { before, after: 0, limit: MAX_PAGE });
    n += page.messages.filter((m) => m.state === state).length;
    if (!page.hasMore) return n;
    before = page.messages[0]?.position ?? 0;
  }
}

describe("MarkRead at scale", () => {
  it("marks 100k messages read in chunks across event-loop turns, and the sender sees every one read", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    seedConversation(alice, bob, COUNT);
    expect(bob.unreadCounts().total).toBe(COUNT);

    // Every chunk (one transaction, one turn) marks at most MARK_READ_CHUNK; every receipt the
    // sender must apply in one go carries at most that many ids.
    const chunks: number[] = [];
    const bobMessages = bob.requireUnlocked().store.messages;
    const markChunk = bobMessages.markRead.bind(bobMessages);
    vi.spyOn(bobMessages, "markRead").mockImplementation((conversationId, after, upTo) => {
      const marked = markChunk(conversationId, after, upTo);
      chunks.push(marked);
      return marked;
    });
    const receiptSizes: number[] = [];
    const aliceConversations = alice.requireUnlocked().conversations;
    const receive = aliceConversations.receiveReceipt.bind(aliceConversations);
    vi.spyOn(aliceConversations, "receiveReceipt").mockImplementation((contact, body, isMember) => {
      receiptSizes.push(body.messageIds.length);
      receive(contact, body, isMember);
    });

    // Counts the macrotask turns other work got while MarkRead ran: it must yield between chunks.
    let turns = 0;
    let running = true;
    const tick = () => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const marked = await bob.markRead("alice");
    running = false;
    expect(marked).toBe(COUNT);
    expect(turns).toBeGreaterThanOrEqual(COUNT / MARK_READ_CHUNK - 1);
    expect(chunks).toHaveLength(COUNT / MARK_READ_CHUNK);
    expect(Math.max(...chunks)).toBe(MARK_READ_CHUNK);
    expect(bob.unreadCounts()).toEqual({ counts: [], total: 0 });
    expect(await bob.markRead("alice")).toBe(0);

    await vi.waitFor(() => expect(countInState(alice, "read")).toBe(COUNT), { timeout: 60_000, interval: 50 });
    // At least every id once (a retry on a loaded box may resend a receipt; applying it twice is harmless).
    expect(receiptSizes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(COUNT);
    expect(Math.max(...receiptSizes)).toBeLessThanOrEqual(MARK_READ_CHUNK);
  }, 120_000);
});

describe("unread counts kept by the store", () => {
  it("follow inserts, reads and deletes without a recount", () => {
    const { store, cleanup } = openTestStore();
    try {
      const insert = (conversationId: string, outgoing: boolean) =>
        store.messages.insert({ id: newMessageId(), conversationId, senderUid: "s", outgoing, text: "t", state: outgoing ? "queued" : "received", sequence: 1, sentAt: 1, receivedAt: 1, read: false });
      store.uow.tx(() => {
        insert("c1", false);
        insert("c1", false);
        insert("c1", true);
        insert("c2", false);
      });
      expect(store.messages.unreadCounts()).toEqual({ counts: [{ conversationId: "c1", unread: 2 }, { conversationId: "c2", unread: 1 }], total: 3 });
      const upTo = store.messages.newestUnreadPosition("c1");
      expect(store.uow.tx(() => store.messages.markRead("c1", 0, upTo))).toBe(2);
      store.uow.tx(() => store.messages.deleteConversation("c2"));
      expect(store.messages.unreadCounts()).toEqual({ counts: [], total: 0 });
      // A rolled-back insert leaves no count behind.
      expect(() =>
        store.uow.tx(() => {
          insert("c3", false);
          throw new Error("roll back");
        }),
      ).toThrow("roll back");
      expect(store.messages.unreadCounts().total).toBe(0);
    } finally {
      cleanup();
    }
  });
});

describe("unread counts under MarkRead (set-based, no per-row trigger)", () => {
  const incoming = (conversationId: string) => ({ id: newMessageId(), conversationId, senderUid: conversationId, outgoing: false, text: "t", state: "received" as const, sequence: 1, sentAt: 1, receivedAt: 1, read: false });

  it("drop by exactly the rows a chunk marks, and come back when that chunk rolls back", () => {
    const { store, cleanup } = openTestStore();
    try {
      store.uow.tx(() => {
        for (let i = 0; i < 10; i++) store.messages.insert(incoming("c1"));
        for (let i = 0; i < 3; i++) store.messages.insert(incoming("c2"));
      });
      const positions = store.messages.unread("c1", 0, Number.MAX_SAFE_INTEGER, 100).map((m) => m.position);
      // A range that covers c1's first four, marked twice: the second time marks nothing.
      const upTo = positions[3] ?? 0;
      expect(store.uow.tx(() => store.messages.markRead("c1", 0, upTo))).toBe(4);
      expect(store.uow.tx(() => store.messages.markRead("c1", 0, upTo))).toBe(0);
      expect(store.messages.unreadCounts()).toEqual({ counts: [{ conversationId: "c1", unread: 6 }, { conversationId: "c2", unread: 3 }], total: 9 });
      expect(() =>
        store.uow.tx(() => {
          expect(store.messages.markRead("c1", 0, Number.MAX_SAFE_INTEGER)).toBe(6);
          throw new Error("roll back");
        }),
      ).toThrow("roll back");
      expect(store.messages.unreadCounts().total).toBe(9);
      expect(store.messages.unread("c1", 0, Number.MAX_SAFE_INTEGER, 100)).toHaveLength(6);
      // Deleting a conversation with read and unread rows leaves the others' counts alone.
      store.uow.tx(() => store.messages.deleteConversation("c1"));
      expect(store.messages.unreadCounts()).toEqual({ counts: [{ conversationId: "c2", unread: 3 }], total: 3 });
    } finally {
      cleanup();
    }
  });
});

// A child process runs the real Conversations.markRead on a real store and is killed -9 inside a
// chunk's transaction (after its UPDATE, before its commit): what survives must be consistent.
const CRASH_CHILD = `
import { writeSync } from "node:fs";
const [dist, path, keyHex, conversation, stopAt] = process.argv.slice(1);
const { openDatabase } = await import(dist + "/store/database.js");
const { Store } = await import(dist + "/store/store.js");
const { Outgoing } = await import(dist + "/messages/outgoing.js");
const { Conversations } = await import(dist + "/messages/conversations.js");
const store = new Store(openDatabase(path, Buffer.from(keyHex, "hex"), { create: false }), Date.now);
const clock = { now: Date.now };
const outgoing = new Outgoing({ clock, uow: store.uow, messages: store.messages, outbox: store.outbox, ownUid: "me", handOff: () => undefined });
const conversations = new Conversations({ clock, uow: store.uow, messages: store.messages, contacts: store.contacts, outgoing, acks: { queue() {} }, drops: {} });
const markChunk = store.messages.markRead.bind(store.messages);
let chunks = 0;
store.messages.markRead = (...args) => {
  const marked = markChunk(...args);
  writeSync(1, "chunk\\n");
  // Holds this chunk's transaction open until the parent kills us.
  if (++chunks === Number(stopAt)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  return marked;
};
await conversations.markRead(conversation);
writeSync(1, "finished\\n");
`;

describe("MarkRead killed -9 mid-chunk", () => {
  it("leaves counts equal to the unread rows and receipts for exactly the messages read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jv-mr-crash-"));
    const path = join(dir, "store.db");
    const key = randomBytes(32);
    const sender = "f".repeat(32);
    const total = 8 * MARK_READ_CHUNK;
    const stopAt = 5;
    try {
      const seeded = new Store(openDatabase(path, key, { create: true }), Date.now);
      seeded.uow.tx(() => {
        seeded.contacts.insert({ uid: sender, publicKey: Buffer.alloc(32, 7), name: "sam", alias: "", addresses: [], addedAt: 1, groupOnly: false });
        for (let i = 0; i < total; i++) {
          seeded.messages.insert({ id: newMessageId(), conversationId: sender, senderUid: sender, outgoing: false, text: "t", state: "received", sequence: i + 1, sentAt: 1, receivedAt: 1, read: false });
        }
      });
      seeded.close();

      const dist = fileURLToPath(new URL("../../dist/src", import.meta.url));
      const child = spawn(process.execPath, ["--input-type=module", "-e", CRASH_CHILD, dist, path, key.toString("hex"), sender, String(stopAt)], { stdio: ["ignore", "pipe", "inherit"] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
      let lines = 0;
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on("data", (data: Buffer) => {
            lines += data.toString().split("\n").filter((l) => l === "chunk").length;
            if (lines >= stopAt) resolve();
          });
          child.once("exit", () => reject(new Error(`child exited after ${lines} chunks`)));
        });
      } finally {
        child.kill("SIGKILL");
      }
      expect(await exited).toBe("SIGKILL");

      const store = new Store(openDatabase(path, key, { create: false }), Date.now);
      try {
        const unreadRows = store.messages.unread(sender, 0, Number.MAX_SAFE_INTEGER, total).length;
        // The chunks before the kill committed; the one it interrupted left no trace.
        expect(unreadRows).toBe(total - (stopAt - 1) * MARK_READ_CHUNK);
        expect(store.messages.unreadCounts()).toEqual({ counts: [{ conversationId: sender, unread: unreadRows }], total: unreadRows });
        const receiptIds = store.outbox.pending(sender, 0, 1000).flatMap((entry) => {
          const body = decodeEnvelope(entry.payload).body;
          return body.case === "receipt" ? body.value.messageIds : [];
        });
        expect(receiptIds).toHaveLength(total - unreadRows);
        const read = new Set(store.messages.page(sender, { before: 0, after: 0, limit: total }).messages.filter((m) => m.read).map((m) => m.id));
        expect(new Set(receiptIds)).toEqual(read);
        // The next MarkRead marks the rest and leaves nothing counted.
        store.uow.tx(() => store.messages.markRead(sender, 0, Number.MAX_SAFE_INTEGER));
        expect(store.messages.unreadCounts().total).toBe(0);
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("the contact cache", () => {
  it("never keeps a row from a transaction that rolled back, and sees committed changes", () => {
    const { store, cleanup } = openTestStore();
    try {
      const contact = { uid: "u1", publicKey: Buffer.alloc(32, 1), name: "ann", alias: "", addresses: [], addedAt: 1, groupOnly: false };
      store.uow.tx(() => store.contacts.insert(contact));
      expect(store.contacts.get("u1")?.name).toBe("ann");
      expect(() =>
        store.uow.tx(() => {
          store.contacts.update({ ...(store.contacts.get("u1") as NonNullable<ReturnType<typeof store.contacts.get>>), name: "changed" });
          expect(store.contacts.get("u1")?.name).toBe("changed");
          throw new Error("roll back");
        }),
      ).toThrow("roll back");
      expect(store.contacts.get("u1")?.name).toBe("ann");
      store.uow.tx(() => store.contacts.update({ ...(store.contacts.get("u1") as NonNullable<ReturnType<typeof store.contacts.get>>), name: "bea" }));
      expect(store.contacts.get("u1")?.name).toBe("bea");
      // What a caller does to the copy it got does not change the cache.
      const got = store.contacts.get("u1");
      if (got) got.name = "mutated";
      expect(store.contacts.get("u1")?.name).toBe("bea");
    } finally {
      cleanup();
    }
  });
});
