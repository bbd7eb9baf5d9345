import { AsyncQueue, ResourceExhaustedError } from "@jarvis/core";
import type { Db } from "../store/database.js";
import type { DomainEvent, StoredEvent } from "../model.js";
import { MAX_SUBSCRIBER_BACKLOG, REPLAY_PAGE } from "../constants.js";

/**
 * The durable, append-only event log and its live subscribers. A subscriber first reads the
 * log after its cursor, then receives live events; the switch from replay to live happens in
 * one synchronous step (read the last page, then attach), so no event falls between the two
 * and none arrives twice.
 */
export class EventLog {
  #append;
  #after;
  #latest;
  #subscribers = new Set<AsyncQueue<StoredEvent>>();
  #now: () => number;

  constructor(db: Db, now: () => number) {
    this.#now = now;
    this.#append = db.prepare<[string, number], { cursor: number }>("INSERT INTO events (payload, created_at) VALUES (?, ?) RETURNING cursor");
    this.#after = db.prepare<[number, number], { cursor: number; payload: string; created_at: number }>(
      "SELECT cursor, payload, created_at FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?",
    );
    this.#latest = db.prepare<[], { cursor: number | null }>("SELECT max(cursor) AS cursor FROM events");
  }

  /**
   * Appends inside the caller's transaction. The caller (the unit of work) publishes it to
   * live subscribers only after the commit, so nobody sees an event that a rollback undid.
   */
  append(event: DomainEvent): StoredEvent {
    const createdAt = this.#now();
    const row = this.#append.get(JSON.stringify(event), createdAt);
    return { cursor: row?.cursor ?? 0, createdAt, event };
  }

  /** Sends committed events to live subscribers. */
  publish(events: StoredEvent[]): void {
    for (const stored of events) this.#deliver(stored);
  }

  #deliver(stored: StoredEvent): void {
    for (const queue of this.#subscribers) {
      if (queue.size >= MAX_SUBSCRIBER_BACKLOG) {
        // A reader this far behind resumes from its cursor instead of growing our memory.
        queue.fail(new ResourceExhaustedError("subscriber too slow; resubscribe from the last cursor", "subscriber-overflow"));
        this.#subscribers.delete(queue);
        continue;
      }
      queue.push(stored);
    }
  }

  /** Live subscribers attached right now (a dropped slow one no longer counts). */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  latestCursor(): number {
    return this.#latest.get()?.cursor ?? 0;
  }

  async *subscribe(afterCursor: number, signal: AbortSignal): AsyncGenerator<StoredEvent> {
    let cursor = afterCursor;
    let live: AsyncQueue<StoredEvent> | undefined;
    const onAbort = () => live?.end();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!live) {
        const page = this.#after.all(cursor, REPLAY_PAGE);
        if (page.length < REPLAY_PAGE) {
          live = new AsyncQueue<StoredEvent>();
          this.#subscribers.add(live);
          if (signal.aborted) live.end();
        }
        for (const row of page) {
          cursor = row.cursor;
          yield { cursor: row.cursor, createdAt: row.created_at, event: JSON.parse(row.payload) as DomainEvent };
        }
      }
      for await (const stored of live) {
        if (stored.cursor <= cursor) continue;
        cursor = stored.cursor;
        yield stored;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (live) {
        this.#subscribers.delete(live);
        live.end();
      }
    }
  }

  /** Ends every live subscription (lock, shutdown) with the given error, or cleanly. */
  closeSubscribers(error?: Error): void {
    for (const queue of this.#subscribers) {
      if (error) queue.fail(error);
      else queue.end();
    }
    this.#subscribers.clear();
  }
}
