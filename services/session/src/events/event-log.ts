import { AsyncQueue, ResourceExhaustedError } from "@jarvis/core";
import type { Db } from "../store/database.js";
import type { DomainEvent, StoredEvent } from "../model.js";
import { toMessage, type MessageRow } from "../messages/message-repo.js";
import { EVENT_LOG_COMPACT_EVERY, EVENT_LOG_RETAIN, MAX_SUBSCRIBER_BACKLOG, REPLAY_PAGE } from "../constants.js";

export interface EventLogOptions {
  /** How many of the newest events compaction keeps (default EVENT_LOG_RETAIN). */
  retain?: number;
  /** Compaction runs once this many events beyond `retain` have piled up (default EVENT_LOG_COMPACT_EVERY). */
  compactEvery?: number;
}

/** A page of the log after a cursor, each message event joined to its message row. */
export const REPLAY_QUERY = `SELECT e.cursor, e.payload, e.created_at AS event_created_at, e.message_position, m.*
  FROM events e LEFT JOIN messages m ON m.position = e.message_position
  WHERE e.cursor > ? ORDER BY e.cursor LIMIT ?`;

/** The newest cursor, or past it the last compacted one or the last AUTOINCREMENT gave (migration 10). */
const LAST_CURSOR = `SELECT max(coalesce((SELECT max(cursor) FROM events), 0),
  coalesce((SELECT max(value) FROM counters WHERE name IN ('events_compacted_through', 'events_cursor_floor')), 0)) AS cursor`;

type EventRow = { cursor: number; payload: string; event_created_at: number; message_position: number | null } & Partial<MessageRow>;

/** Events that carry a message store a reference to its row, not a copy of it. */
function messagePosition(event: DomainEvent): number | null {
  return event.type === "message_created" || event.type === "message_received" ? event.message.position : null;
}

/**
 * The durable, append-only event log and its live subscribers. A subscriber first reads the
 * log after its cursor, then receives live events; the switch from replay to live happens in
 * one synchronous step (read the last page, then attach), so no event falls between the two
 * and none arrives twice.
 *
 * Size: a message event stores only its type and the message's position; replay rebuilds the
 * message from its row as it is now (current state), and skips the event if the message has
 * since been deleted with its conversation. The log keeps its newest `retain` events (never
 * past a subscriber that is still replaying); a cursor older than that gets RESOURCE_EXHAUSTED
 * `events-compacted` — the client reloads state (contacts, history) and subscribes again.
 */
export class EventLog {
  #db: Db;
  #append;
  #after;
  #latest;
  #compact;
  #subscribers = new Set<AsyncQueue<StoredEvent>>();
  /** Cursors of subscribers still reading the log: compaction never passes them. */
  #replaying = new Set<{ cursor: number }>();
  #compactedThrough: number;
  /** The last cursor handed out; never one compaction (or an earlier version) already used. */
  #lastCursor: number;
  #readLastCursor;
  #retain: number;
  #compactEvery: number;
  #now: () => number;

  constructor(db: Db, now: () => number, options: EventLogOptions = {}) {
    this.#db = db;
    this.#now = now;
    this.#retain = options.retain ?? EVENT_LOG_RETAIN;
    this.#compactEvery = options.compactEvery ?? EVENT_LOG_COMPACT_EVERY;
    // The cursor is handed out here, not by AUTOINCREMENT (migration 10), whose sqlite_sequence
    // row every insert rewrote: one page more per commit.
    this.#append = db.prepare<[number, string, number, number | null]>("INSERT INTO events (cursor, payload, created_at, message_position) VALUES (?, ?, ?, ?)");
    this.#after = db.prepare<[number, number], EventRow>(REPLAY_QUERY);
    this.#latest = db.prepare<[], { cursor: number | null }>("SELECT max(cursor) AS cursor FROM events");
    const deleteThrough = db.prepare("DELETE FROM events WHERE cursor <= ?");
    const record = db.prepare("UPDATE counters SET value = ? WHERE name = 'events_compacted_through'");
    this.#compact = db.transaction((through: number) => {
      deleteThrough.run(through);
      record.run(through);
    });
    const row = db.prepare<[], { value: number }>("SELECT value FROM counters WHERE name = 'events_compacted_through'").get();
    this.#compactedThrough = row?.value ?? 0;
    this.#readLastCursor = db.prepare<[], { cursor: number }>(LAST_CURSOR);
    this.#lastCursor = this.#readLastCursor.get()?.cursor ?? 0;
  }

  /** Reads the last cursor from the store again: after a rollback, which may have undone appends. */
  reloadLastCursor(): void {
    this.#lastCursor = this.#readLastCursor.get()?.cursor ?? 0;
  }

  /**
   * Appends inside the caller's transaction. The caller (the unit of work) publishes it to
   * live subscribers only after the commit, so nobody sees an event that a rollback undid.
   */
  append(event: DomainEvent): StoredEvent {
    const createdAt = this.#now();
    const position = messagePosition(event);
    const payload = position === null ? JSON.stringify(event) : `{"type":"${event.type}"}`;
    const cursor = this.#lastCursor + 1;
    this.#append.run(cursor, payload, createdAt, position);
    this.#lastCursor = cursor;
    return { cursor, createdAt, event };
  }

  /** Sends committed events to live subscribers (outside any transaction), then compacts if due. */
  publish(events: StoredEvent[]): void {
    for (const stored of events) this.#deliver(stored);
    const last = events.at(-1);
    if (last) this.#compactIfDue(last.cursor);
  }

  /** Cursors up to this one have been compacted away (0: none). */
  get compactedThrough(): number {
    return this.#compactedThrough;
  }

  #compactIfDue(latest: number): void {
    let through = latest - this.#retain;
    if (through - this.#compactedThrough < this.#compactEvery) return;
    for (const reader of this.#replaying) through = Math.min(through, reader.cursor);
    if (through <= this.#compactedThrough || this.#db.inTransaction) return;
    this.#compact(through);
    this.#compactedThrough = through;
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
    if (afterCursor > 0 && afterCursor < this.#compactedThrough) {
      throw new ResourceExhaustedError(
        `events up to cursor ${this.#compactedThrough} were compacted away; reload the state and subscribe again (live_only, or from cursor 0)`,
        "events-compacted",
      );
    }
    const reader = { cursor: afterCursor };
    let live: AsyncQueue<StoredEvent> | undefined;
    const onAbort = () => live?.end();
    signal.addEventListener("abort", onAbort, { once: true });
    this.#replaying.add(reader);
    try {
      while (!live) {
        const page = this.#after.all(reader.cursor, REPLAY_PAGE);
        if (page.length < REPLAY_PAGE) {
          live = new AsyncQueue<StoredEvent>();
          this.#subscribers.add(live);
          this.#replaying.delete(reader);
          if (signal.aborted) live.end();
        }
        for (const row of page) {
          reader.cursor = row.cursor;
          const event = eventFromRow(row);
          if (event) yield { cursor: row.cursor, createdAt: row.event_created_at, event };
        }
      }
      for await (const stored of live) {
        if (stored.cursor <= reader.cursor) continue;
        reader.cursor = stored.cursor;
        yield stored;
      }
    } finally {
      this.#replaying.delete(reader);
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

/** The event a row holds; undefined for a message event whose message is gone. */
function eventFromRow(row: EventRow): DomainEvent | undefined {
  const stored = JSON.parse(row.payload) as DomainEvent;
  if (row.message_position === null) return stored;
  if (row.position === null || row.position === undefined) return undefined;
  const message = toMessage(row as MessageRow);
  return stored.type === "message_received" ? { type: "message_received", message } : { type: "message_created", message };
}
