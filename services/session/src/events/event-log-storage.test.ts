import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "@jarvis/core";
import { openDatabase, type Db } from "../store/database.js";
import { Store } from "../store/store.js";
import type { EventLogOptions } from "./event-log.js";
import { REPLAY_PAGE } from "../constants.js";
import type { DomainEvent, Message, StoredEvent } from "../model.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A real encrypted store plus a second handle on the same file, to look at what is stored. */
function fresh(eventLog: EventLogOptions = {}): { store: Store; raw: Db } {
  const dir = mkdtempSync(join(tmpdir(), "jv-events-"));
  const key = randomBytes(32);
  const store = new Store(openDatabase(join(dir, "store.db"), key, { create: true }), Date.now, { eventLog });
  const raw = openDatabase(join(dir, "store.db"), key, { create: false });
  cleanups.push(() => {
    raw.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, raw };
}

function storeMessage(store: Store, id: string, conversationId: string): Message {
  return store.uow.tx(() => {
    const message = store.messages.insert({
      id,
      conversationId,
      senderUid: "me",
      outgoing: true,
      text: "x".repeat(200),
      state: "queued",
      sequence: 1,
      sentAt: 1,
      receivedAt: 1,
      read: true,
    }) as Message;
    store.uow.emit({ type: "message_created", message });
    return message;
  });
}

async function replay(store: Store, afterCursor: number): Promise<StoredEvent[]> {
  const abort = new AbortController();
  const seen: StoredEvent[] = [];
  const latest = store.events.latestCursor();
  if (latest <= afterCursor) return seen;
  for await (const stored of store.events.subscribe(afterCursor, abort.signal)) {
    seen.push(stored);
    if (stored.cursor >= latest) break;
  }
  return seen;
}

const emitRemoved = (store: Store, count: number) =>
  store.uow.tx(() => {
    for (let i = 0; i < count; i++) store.uow.emit({ type: "contact_removed", uid: `u${i}` });
  });

describe("EventLog storage", () => {
  it("stores a reference to the message, not a copy; replay rebuilds it from the row as it is now", async () => {
    const { store, raw } = fresh();
    const message = storeMessage(store, "m1", "bob");
    storeMessage(store, "m2", "carol");
    store.uow.tx(() => store.messages.setState("me", "m1", "delivered"));
    const rows = raw.prepare("SELECT payload, message_position FROM events ORDER BY cursor").all() as { payload: string; message_position: number }[];
    expect(rows[0]).toEqual({ payload: '{"type":"message_created"}', message_position: message.position });
    // The 200-byte text lives once, in the messages table.
    expect(rows.every((row) => !row.payload.includes("xxxx"))).toBe(true);
    store.messages.deleteConversation("carol");
    // The last event is skipped on replay, so end the replay at a marker event after it.
    store.uow.tx(() => store.uow.emit({ type: "identity_locked", uid: "end" }));
    const events = (await replay(store, 0)).map((e) => e.event).slice(0, -1);
    // m2's conversation was deleted: its event is skipped, not replayed as an empty message.
    expect(events).toEqual([{ type: "message_created", message: { ...message, state: "delivered" } } satisfies DomainEvent]);
  });

  it("keeps the newest events; an older cursor is told to resync, a replaying reader holds compaction back", async () => {
    const { store, raw } = fresh({ retain: 10, compactEvery: 5 });
    const count = () => (raw.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n;
    emitRemoved(store, 12);
    expect(store.events.compactedThrough).toBe(0); // 12 - 10 < 5: not due yet
    emitRemoved(store, 3); // latest 15: 15 - 10 = 5, due
    expect(store.events.compactedThrough).toBe(5);
    expect(count()).toBe(10);
    await expect(replay(store, 4)).rejects.toSatisfy((e) => e instanceof ResourceExhaustedError && e.code === "events-compacted");
    expect((await replay(store, 5)).map((e) => e.cursor)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect((await replay(store, 0)).length).toBe(10);
    // The mark is stored with the deletion, so a reopened store refuses the same cursor.
    expect((raw.prepare("SELECT value FROM counters WHERE name = 'events_compacted_through'").get() as { value: number }).value).toBe(5);

    // More than a replay page behind: a reader still reading the log from the store holds compaction back.
    const insert = raw.prepare("INSERT INTO events (payload, created_at) VALUES ('{\"type\":\"contact_removed\",\"uid\":\"x\"}', 0)");
    raw.transaction(() => {
      for (let i = 0; i < REPLAY_PAGE + 20; i++) insert.run();
    })();
    // Written behind the log's back (to skip compaction): it learns the new last cursor as after a rollback.
    store.events.reloadLastCursor();
    const paused = store.events.subscribe(5, new AbortController().signal);
    expect(((await paused.next()).value as StoredEvent).cursor).toBe(6);
    emitRemoved(store, 1);
    expect(store.events.compactedThrough).toBe(6); // not the 536 that retain alone would allow
    expect(((await paused.next()).value as StoredEvent).cursor).toBe(7);
    await paused.return(undefined);
    emitRemoved(store, 1);
    expect(store.events.compactedThrough).toBe(store.events.latestCursor() - 10);
  });

  it("stays bounded: 3,000 message events leave at most retain + compactEvery rows", () => {
    const { store, raw } = fresh({ retain: 500, compactEvery: 100 });
    for (let i = 0; i < 3000; i++) storeMessage(store, `m${i}`, "bob");
    const n = (raw.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n;
    expect(n).toBeGreaterThanOrEqual(500);
    expect(n).toBeLessThan(600);
  });
});
