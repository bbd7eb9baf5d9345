import { SqlTransactions, type Db } from "./database.js";
import { GroupCommit } from "./group-commit.js";
import { typedStoreError } from "./store-errors.js";
import type { EventLog } from "../events/event-log.js";
import type { DomainEvent, StoredEvent } from "../model.js";

/** What one (save)point produced: it survives only if that savepoint is released. */
interface Pending {
  events: StoredEvent[];
  after: (() => void)[];
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
  #sql: SqlTransactions;
  #events: EventLog;
  #depth = 0;
  /** One entry per open (save)point: moves to the parent when a savepoint succeeds. */
  #pending: Pending[] = [];
  #beforeCommit = new Map<string, () => void>();
  #endListeners: ((committed: boolean) => void)[] = [];
  #rollbackListeners: (() => void)[] = [];
  /**
   * Set when SQLite rolled back the whole transaction under a failing savepoint (it does so
   * on SQLITE_FULL and I/O errors): nothing of it survives, so the rest of it must not run
   * in autocommit and the outermost must fail as a whole, even if a caller caught the error.
   */
  #aborted: { error: unknown } | undefined;
  #commits = 0;
  #makeRoom: () => boolean;
  #group = new GroupCommit(
    <T>(fn: () => T) => this.tx(fn),
    () => this.#makeRoom(),
  );

  /** `makeRoom`: see GroupCommit (the store checkpoints its WAL on a full disk). */
  constructor(db: Db, events: EventLog, options: { makeRoom?: () => boolean } = {}) {
    this.#db = db;
    this.#makeRoom = options.makeRoom ?? (() => false);
    this.#sql = new SqlTransactions(db);
    this.#events = events;
  }

  /** Outermost transactions committed so far (diagnostics: commits per message). */
  get commits(): number {
    return this.#commits;
  }

  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /**
   * Runs one statement inside the open transaction without a savepoint of its own: SQLite
   * undoes a failing statement by itself, so the transaction goes on as if it had not run —
   * unless the error ended the whole transaction (SQLITE_FULL, I/O errors), which then fails
   * as a whole exactly as after a failed savepoint.
   */
  statement<T>(fn: () => T): T {
    if (this.#depth === 0) return this.tx(fn);
    if (this.#aborted) throw this.#aborted.error;
    try {
      return fn();
    } catch (error) {
      const typed = typedStoreError(error);
      if (!this.#db.inTransaction) {
        this.#rolledBack();
        this.#aborted = { error: typed };
      }
      throw typed;
    }
  }

  tx<T>(fn: () => T): T {
    if (this.#depth > 0) return this.#savepoint(fn);
    this.#depth = 1;
    this.#pending = [{ events: [], after: [] }];
    let result: T;
    let succeeded = false;
    try {
      result = this.#sql.run(() => {
        const value = fn();
        if (this.#aborted) throw this.#aborted.error;
        // Summaries (e.g. unread counts) are computed once per commit, not once per change.
        for (const summary of this.#beforeCommit.values()) summary();
        return value;
      });
      succeeded = true;
    } catch (error) {
      this.#rolledBack();
      throw typedStoreError(error);
    } finally {
      this.#depth = 0;
      this.#aborted = undefined;
      this.#beforeCommit.clear();
      for (const listener of this.#endListeners) listener(succeeded);
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
      const value = this.#sql.run(fn);
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
   * Calls `listener` whenever an outermost transaction ends, committed (true) or rolled back:
   * caches over the store use it to learn when what they saw is settled.
   */
  onTransactionEnd(listener: (committed: boolean) => void): void {
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
   * inbound frames — runs in one transaction (each in its own savepoint, so one failure does
   * not undo the others), and each caller's promise settles only after that transaction has
   * committed. One commit per turn instead of one per source (group-commit.ts).
   */
  write<T>(fn: () => T): Promise<T> {
    return this.#group.write(fn);
  }

  /**
   * Runs `fn` in the next group commit, for internal work nobody awaits; `onError` hears a
   * failure (its savepoint was rolled back, the rest of the batch committed).
   */
  inNextCommit(fn: () => void, onError: (error: unknown) => void): void {
    this.#group.inNextCommit(fn, onError);
  }

  /**
   * Runs `fn` in the next group commit that something else brings (a client's write, inbound
   * frames), after that commit's other writes, so it costs no commit of its own;
   * commitRidersNow gives the waiting riders one when they should wait no longer. An `early`
   * rider runs before the other riders (an ack, which makes a waiting "sent" report moot).
   */
  rideNextCommit(fn: () => void, onError: (error: unknown) => void, early = false): void {
    this.#group.rideNextCommit(fn, onError, early);
  }

  /** Puts the waiting riders in the next group commit, scheduling one if none is. */
  commitRidersNow(): void {
    this.#group.commitRidersNow();
  }

  /** Writes waiting for the next group commit (for overload checks and tests). */
  get queuedWrites(): number {
    return this.#group.queuedWrites;
  }

  /** The store is closing (lock, shutdown): writes still queued fail with LockedError. */
  close(): void {
    this.#group.close();
  }
}
