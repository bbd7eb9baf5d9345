import { LockedError } from "@jarvis/core";
import type { Db } from "./database.js";
import { typedStoreError } from "./store-errors.js";
import type { EventLog } from "../events/event-log.js";
import type { DomainEvent, StoredEvent } from "../model.js";

/** Turns a group commit may wait for more writes while they keep arriving (each turn is one loop iteration). */
const MAX_COMMIT_DEFERRALS = 4;
/** A batch this large commits without waiting for more (bounds one turn's work). */
const MAX_WRITES_TO_WAIT_FOR = 256;

/** What one (save)point produced: it survives only if that savepoint is released. */
interface Pending {
  events: StoredEvent[];
  after: (() => void)[];
}

interface QueuedWrite {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Internal work (no client waits on it): dropped silently when the store closes first. */
  internal: boolean;
}

/**
 * The one unit of work of an unlocked store: transactions (nested calls become savepoints),
 * group commit for client writes, and what happens around a commit — staged events reach live
 * subscribers only after it, and work registered with afterCommit (handing payloads to the
 * network) runs only if the savepoint that registered it survived. Both are kept per
 * savepoint: a write that fails inside a group commit takes its events and hand-offs with it.
 */
export class UnitOfWork {
  #db: Db;
  #events: EventLog;
  #depth = 0;
  /** One entry per open (save)point: moves to the parent when a savepoint succeeds. */
  #pending: Pending[] = [];
  #beforeCommit = new Map<string, () => void>();
  #writes: QueuedWrite[] = [];
  #endListeners: (() => void)[] = [];
  #rollbackListeners: (() => void)[] = [];
  /**
   * Set when SQLite rolled back the whole transaction under a failing savepoint (it does so
   * on SQLITE_FULL and I/O errors): nothing of it survives, so the rest of it must not run
   * in autocommit and the outermost must fail as a whole, even if a caller caught the error.
   */
  #aborted: { error: unknown } | undefined;
  #closed = false;
  /** Queue length at the last look, and how many turns the pending commit has waited. */
  #seen = 0;
  #deferrals = 0;
  #commits = 0;

  constructor(db: Db, events: EventLog) {
    this.#db = db;
    this.#events = events;
  }

  /** Outermost transactions committed so far (diagnostics: commits per message). */
  get commits(): number {
    return this.#commits;
  }

  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  tx<T>(fn: () => T): T {
    if (this.#depth > 0) return this.#savepoint(fn);
    this.#depth = 1;
    this.#pending = [{ events: [], after: [] }];
    let result: T;
    try {
      result = this.#db.transaction(() => {
        const value = fn();
        if (this.#aborted) throw this.#aborted.error;
        // Summaries (e.g. unread counts) are computed once per commit, not once per change.
        for (const summary of this.#beforeCommit.values()) summary();
        return value;
      })();
    } catch (error) {
      this.#rolledBack();
      throw typedStoreError(error);
    } finally {
      this.#depth = 0;
      this.#aborted = undefined;
      this.#beforeCommit.clear();
      for (const listener of this.#endListeners) listener();
    }
    this.#commits++;
    const committed = this.#pending[0] as Pending;
    this.#pending = [];
    this.#events.publish(committed.events);
    for (const callback of committed.after) callback();
    return result;
  }

  #savepoint<T>(fn: () => T): T {
    if (this.#aborted) throw this.#aborted.error;
    this.#depth++;
    this.#pending.push({ events: [], after: [] });
    try {
      const value = this.#db.transaction(fn)();
      const mine = this.#pending.pop() as Pending;
      const parent = this.#pending.at(-1) as Pending;
      parent.events.push(...mine.events);
      parent.after.push(...mine.after);
      return value;
    } catch (error) {
      this.#pending.pop();
      this.#rolledBack();
      const typed = typedStoreError(error);
      if (!this.#db.inTransaction) this.#aborted = { error: typed };
      throw typed;
    } finally {
      this.#depth--;
    }
  }

  /**
   * Calls `listener` whenever an outermost transaction ends, committed or rolled back: caches
   * over the store use it to learn when what they saw is settled.
   */
  onTransactionEnd(listener: () => void): void {
    this.#endListeners.push(listener);
  }

  /**
   * Calls `listener` whenever a transaction or savepoint rolls back: state kept in memory
   * beside the store (e.g. the outbox's owed counts) learns that some of its moves were undone.
   */
  onRollback(listener: () => void): void {
    this.#rollbackListeners.push(listener);
  }

  #rolledBack(): void {
    for (const listener of this.#rollbackListeners) listener();
  }

  /** Appends an event inside the current transaction. */
  emit(event: DomainEvent): void {
    const current = this.#pending.at(-1);
    if (!current) throw new Error("emit outside a transaction");
    current.events.push(this.#events.append(event));
  }

  /** Runs callback after the outermost commit; dropped if this savepoint rolls back. */
  afterCommit(callback: () => void): void {
    const current = this.#pending.at(-1);
    if (!current) throw new Error("afterCommit outside a transaction");
    current.after.push(callback);
  }

  /** Runs `summary` once at the end of the current outermost transaction, whatever asks for it. */
  onceBeforeCommit(key: string, summary: () => void): void {
    if (this.#depth === 0) throw new Error("onceBeforeCommit outside a transaction");
    this.#beforeCommit.set(key, summary);
  }

  /**
   * Group commit: every write requested in the same turn of the event loop — client sends,
   * inbound frames, the network's written reports — runs in one transaction (each in its own
   * savepoint, so one failure does not undo the others), and each caller's promise settles
   * only after that transaction has committed. One commit per turn instead of one per source.
   */
  write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#queue({ fn, resolve: resolve as (value: unknown) => void, reject, internal: false }));
  }

  /**
   * Runs `fn` in the next group commit, for internal work nobody awaits; `onError` hears a
   * failure (its savepoint was rolled back, the rest of the batch committed).
   */
  inNextCommit(fn: () => void, onError: (error: unknown) => void): void {
    this.#queue({ fn, resolve: () => undefined, reject: onError, internal: true });
  }

  /** Writes waiting for the next group commit (for overload checks and tests). */
  get queuedWrites(): number {
    return this.#writes.length;
  }

  #queue(write: QueuedWrite): void {
    if (this.#closed) {
      if (!write.internal) write.reject(new LockedError("identity locked"));
      return;
    }
    this.#writes.push(write);
    if (this.#writes.length === 1) {
      this.#deferrals = 0;
      this.#seen = 1;
      setImmediate(() => this.#commitWhenSettled());
    }
  }

  /**
   * Commits once a turn brings no new writes, or after MAX_COMMIT_DEFERRALS turns: while
   * writes keep arriving (a busy stream, many clients), waiting a turn or two puts many more
   * of them in one commit; a lone write is committed at the first turn, without waiting.
   */
  #commitWhenSettled(): void {
    const growing = this.#writes.length > this.#seen && this.#writes.length < MAX_WRITES_TO_WAIT_FOR;
    if (growing && this.#deferrals < MAX_COMMIT_DEFERRALS) {
      this.#seen = this.#writes.length;
      this.#deferrals++;
      setImmediate(() => this.#commitWhenSettled());
      return;
    }
    this.#commitWrites();
  }

  /** The store is closing (lock, shutdown): writes still queued fail with LockedError. */
  close(): void {
    this.#closed = true;
    const writes = this.#writes;
    this.#writes = [];
    for (const write of writes) if (!write.internal) write.reject(new LockedError("identity locked"));
  }

  #commitWrites(): void {
    const writes = this.#writes;
    this.#writes = [];
    if (this.#closed) return;
    // A lone write is the whole transaction: its failure rolls back only itself anyway, so it
    // needs no savepoint of its own (two statements fewer per commit on a quiet node).
    if (writes.length === 1) return this.#commitLoneWrite(writes[0] as QueuedWrite);
    const outcomes: (() => void)[] = [];
    try {
      this.tx(() => {
        for (const write of writes) {
          try {
            const value = this.tx(write.fn);
            outcomes.push(() => write.resolve(value));
          } catch (error) {
            outcomes.push(() => write.reject(error));
          }
        }
      });
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    for (const settle of outcomes) settle();
  }

  #commitLoneWrite(write: QueuedWrite): void {
    let value: unknown;
    try {
      value = this.tx(write.fn);
    } catch (error) {
      write.reject(error);
      return;
    }
    write.resolve(value);
  }
}
