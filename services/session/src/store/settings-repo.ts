import type { Db } from "./database.js";

/** Small key/value settings kept inside the encrypted store. */
export class SettingsRepo {
  #get;
  #set;

  constructor(db: Db) {
    this.#get = db.prepare<[string], { value: string }>("SELECT value FROM settings WHERE key = ?");
    this.#set = db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  }

  get(key: string): string | undefined {
    return this.#get.get(key)?.value;
  }

  set(key: string, value: string): void {
    this.#set.run(key, value);
  }
}
