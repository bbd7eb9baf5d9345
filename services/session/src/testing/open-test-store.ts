import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { openDatabase, type Db } from "../store/database.js";
import { Store } from "../store/store.js";
import type { EventLogOptions } from "../events/event-log.js";
import type { StoredEvent } from "../model.js";

/**
 * A fresh encrypted store in a temp dir (random key, no keyfile), its SQLite handle (for a
 * test that looks behind the repositories' back), and a way to remove it.
 */
export function openTestStore(now: () => number = Date.now, options: { eventLog?: EventLogOptions } = {}): { store: Store; db: Db; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "jv-store-"));
  const db = openDatabase(join(dir, "store.db"), randomBytes(32), { create: true });
  const store = new Store(db, now, options);
  return {
    store,
    db,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every event the store's log publishes from now on, collected as it comes, until stop(). */
export function recordEvents(store: Store): { events: StoredEvent[]; stop: () => void } {
  const events: StoredEvent[] = [];
  const abort = new AbortController();
  void (async () => {
    for await (const e of store.events.subscribe(0, abort.signal)) events.push(e);
  })().catch(() => undefined);
  return { events, stop: () => abort.abort() };
}
