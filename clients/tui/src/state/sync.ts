import { Code, ConnectError } from "@connectrpc/connect";
import { Backoff, foregroundClock, sleep, type BackoffPolicy, type Clock } from "@jarvis/core";
import type { SubscribeResponse } from "@jarvis/proto/jarvis/session/v1/session_service";
import type { SessionClient } from "../client.js";
import type { Store } from "./store.js";

/** Quick to come back after a daemon restart, and at most every 3 s while it stays away. */
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 200, factor: 2, capMs: 3_000 };

export interface SyncHooks {
  /** The node is locked: resolves once the person has unlocked it (or the TUI closes). */
  unlock: () => Promise<void>;
  /** Connected (stream open) or not (daemon away, retrying). */
  connection: (connected: boolean, reason?: string) => void;
  changed: () => void;
}

/**
 * Keeps the store current from the event stream. Each connection reads the log's newest
 * cursor (first connection only: later ones keep the store's own), then takes a snapshot,
 * then subscribes after that cursor: an event that races the snapshot is applied again
 * (harmless: events carry whole states and messages are keyed by id), and none falls
 * between the two. Nothing is reloaded per event.
 */
export class Sync {
  readonly #client: SessionClient;
  readonly #store: Store;
  readonly #hooks: SyncHooks;
  readonly #clock: Clock;
  /** Whether the store's cursor already names a point the store is complete up to. */
  #synced = false;

  constructor(client: SessionClient, store: Store, hooks: SyncHooks, clock: Clock = foregroundClock) {
    this.#client = client;
    this.#store = store;
    this.#hooks = hooks;
    this.#clock = clock;
  }

  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(RECONNECT_BACKOFF);
    while (!signal.aborted) {
      try {
        const status = await this.#client.getStatus({}, { signal });
        if (status.locked) {
          await this.#hooks.unlock();
          continue;
        }
        // First contact: the snapshot below reflects every event up to the newest one now.
        if (!this.#synced) this.#store.cursor = status.latestCursor;
        await this.#stream(signal, () => backoff.reset());
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ConnectError && error.code === Code.FailedPrecondition) continue; // locked meanwhile
        this.#hooks.connection(false, error instanceof ConnectError ? error.rawMessage : String(error));
      }
      try {
        await sleep(this.#clock, backoff.next(), signal);
      } catch {
        return; // closing
      }
    }
  }

  async #stream(signal: AbortSignal, opened: () => void): Promise<void> {
    await this.refreshSnapshot();
    this.#synced = true;
    const stream = this.#client.subscribe({ afterCursor: this.#store.cursor }, { signal });
    opened();
    this.#hooks.connection(true);
    this.#hooks.changed();
    for await (const event of stream) {
      if (this.#apply(event)) return; // locked: the loop shows the lock screen
    }
  }

  /** Contacts, groups and unread counts: once per connection, never per event. */
  async refreshSnapshot(): Promise<void> {
    const [status, contacts, groups, unread] = await Promise.all([
      this.#client.getStatus({}),
      this.#client.listContacts({}),
      this.#client.listGroups({}),
      this.#client.getUnreadCounts({}),
    ]);
    this.#store.loadSnapshot({ selfUid: status.uid, selfName: status.name, contacts: contacts.contacts, groups: groups.groups, unread: unread.counts });
  }

  #apply(event: SubscribeResponse): boolean {
    if (event.event.case === "identityLocked") {
      this.#store.cursor = event.cursor > this.#store.cursor ? event.cursor : this.#store.cursor;
      return true;
    }
    if (this.#store.apply(event)) this.#hooks.changed();
    return false;
  }
}
