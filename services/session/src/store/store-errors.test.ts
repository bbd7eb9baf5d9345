import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "./database.js";
import { Store } from "./store.js";
import { DiskFullError } from "./store-errors.js";
import { FakeClock } from "@jarvis/core";
import { ACK_SEND_FOLD_MS, Acks, type AcksDeps } from "../messages/acks.js";
import type { Contact } from "../model.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A real encrypted store whose file may not grow past its current size: SQLite's SQLITE_FULL, as on a full disk. */
function storeWithoutRoom(): { store: Store; db: Db } {
  const dir = mkdtempSync(join(tmpdir(), "jv-full-"));
  const db = openDatabase(join(dir, "store.db"), randomBytes(32), { create: true });
  const store = new Store(db, Date.now);
  cleanups.push(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);
  return { store, db };
}

const BIG = "x".repeat(64 * 1024);

describe("a store that has no room left", () => {
  it("refuses a write with the typed disk-full error, keeps what it had, and takes writes again once there is room", async () => {
    const { store, db } = storeWithoutRoom();
    const { uow, settings } = store;
    const failure = await uow.write(() => settings.set("big", BIG)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DiskFullError);
    expect(failure).toMatchObject({ kind: "resource-exhausted", code: "disk-full" });
    expect((failure as Error).cause).toMatchObject({ code: "SQLITE_FULL" });
    expect(settings.get("big")).toBeUndefined();

    db.pragma("max_page_count = 1073741823");
    await uow.write(() => settings.set("big", BIG));
    expect(settings.get("big")).toBe(BIG);
  });

  it("fails a whole group commit that SQLite rolled back, so no write runs on in autocommit or is reported wrongly", async () => {
    const { store } = storeWithoutRoom();
    const { uow, settings } = store;
    // Requested in the same turn: one transaction. The big one makes SQLite roll it all back.
    const results = await Promise.allSettled([
      uow.write(() => settings.set("before", "1")),
      uow.write(() => settings.set("big", BIG)),
      uow.write(() => settings.set("after", "1")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DiskFullError);
    expect([settings.get("before"), settings.get("big"), settings.get("after")]).toEqual([undefined, undefined, undefined]);
    // The next transaction starts clean.
    await uow.write(() => settings.set("small", "ok"));
    expect(settings.get("small")).toBe("ok");
  });

  it("never acks a message whose batch could not be committed", async () => {
    const { store } = storeWithoutRoom();
    const sent: string[] = [];
    const network = { send: async (_key: Buffer, payload: Uint8Array) => void sent.push(Buffer.from(payload).toString("hex")) };
    const clock = new FakeClock();
    const acks = new Acks({ clock, network, uow: store.uow } as unknown as AcksDeps);
    const contact = { uid: "a".repeat(32), publicKey: randomBytes(32) } as Contact;

    // As the inbound batch does: store, queue the ack, and the commit fails.
    expect(() =>
      store.uow.tx(() => {
        store.settings.set("received", BIG);
        acks.queue(contact, "m1");
      }),
    ).toThrow(DiskFullError);
    clock.advance(ACK_SEND_FOLD_MS);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([]);

    // A batch that commits is acked (once the ack fold is over).
    store.uow.tx(() => acks.queue(contact, "m2"));
    clock.advance(ACK_SEND_FOLD_MS);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(1);
  });
});
