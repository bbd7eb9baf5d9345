import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { openDatabase } from "../store/database.js";
import { Store } from "../store/store.js";
import type { EventLogOptions } from "../events/event-log.js";

/** A fresh encrypted store in a temp dir (random key, no keyfile), and a way to remove it. */
export function openTestStore(now: () => number = Date.now, options: { eventLog?: EventLogOptions } = {}): { store: Store; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "jv-store-"));
  const store = new Store(openDatabase(join(dir, "store.db"), randomBytes(32), { create: true }), now, options);
  return {
    store,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
