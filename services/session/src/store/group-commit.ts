import { LockedError } from "@jarvis/core";
import { DiskFullError } from "./store-errors.js";

/** Turns a group commit may wait for more writes while they keep arriving (each turn is one loop iteration). */
const MAX_COMMIT_DEFERRALS = 4;
/** A batch this large commits without waiting for more (bounds one turn's work). */
const MAX_WRITES_TO_WAIT_FOR = 256;

interface QueuedWrite {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Internal work (no client waits on it): dropped silently when the store closes first. */
  internal: boolean;
}

/**
 * The unit of work's group commit: writes requested in the same turn of the event loop run in
 * one transaction (`tx`; each write nested in it, so in its own savepoint), and each caller
 * hears its outcome only after that transaction committed. Riders are internal writes that
 * wait for a commit something else brings, instead of causing one.
 */
export class GroupCommit {
  #tx: <T>(fn: () => T) => T;
  #makeRoom: () => boolean;
  #writes: QueuedWrite[] = [];
  /** Internal work waiting to join whichever group commit comes next (rideNextCommit). */
  #riders: QueuedWrite[] = [];
  /** Riders that run before the others (`early`): work whose outcome makes later riders' moot. */
  #earlyRiders: QueuedWrite[] = [];
  #closed = false;
  /** Queue length at the last look, and how many turns the pending commit has waited. */
  #seen = 0;
  #deferrals = 0;

  /** `makeRoom`: after a write failed on a full disk, whether a checkpoint made room in the WAL for another try. */
  constructor(tx: <T>(fn: () => T) => T, makeRoom: () => boolean = () => false) {
    this.#tx = tx;
    this.#makeRoom = makeRoom;
  }

  write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#queue({ fn, resolve: resolve as (value: unknown) => void, reject, internal: false }));
  }

  inNextCommit(fn: () => void, onError: (error: unknown) => void): void {
    this.#queue({ fn, resolve: () => undefined, reject: onError, internal: true });
  }

  rideNextCommit(fn: () => void, onError: (error: unknown) => void, early = false): void {
    if (!this.#closed) (early ? this.#earlyRiders : this.#riders).push({ fn, resolve: () => undefined, reject: onError, internal: true });
  }

  commitRidersNow(): void {
    for (const rider of this.#takeRiders()) this.#queue(rider);
  }

  /** The waiting riders in the order they run: early ones first, each kind in arrival order. */
  #takeRiders(): QueuedWrite[] {
    const riders = this.#earlyRiders.length > 0 ? [...this.#earlyRiders, ...this.#riders] : this.#riders;
    this.#earlyRiders = [];
    this.#riders = [];
    return riders;
  }

  get queuedWrites(): number {
    return this.#writes.length;
  }

  /** Writes still queued fail with LockedError; internal ones and riders are dropped. */
  close(): void {
    this.#closed = true;
    const writes = this.#writes;
    this.#writes = [];
    this.#riders = [];
    this.#earlyRiders = [];
    for (const write of writes) if (!write.internal) write.reject(new LockedError("identity locked"));
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

  #commitWrites(): void {
    // Riders last: they see what this commit's writes did (an ack can make a rider's work moot).
    const riders = this.#takeRiders();
    const writes = riders.length > 0 ? [...this.#writes, ...riders] : this.#writes;
    this.#writes = [];
    if (this.#closed) return;
    // A lone write is the whole transaction: its failure rolls back only itself anyway, so it
    // needs no savepoint of its own (two statements fewer per commit on a quiet node).
    if (writes.length === 1) return this.#commitLoneWrite(writes[0] as QueuedWrite);
    const outcomes: (() => void)[] = [];
    try {
      this.#withRoom(() => {
        outcomes.length = 0;
        this.#tx(() => {
          for (const write of writes) {
            try {
              const value = this.#tx(write.fn);
              outcomes.push(() => write.resolve(value));
            } catch (error) {
              outcomes.push(() => write.reject(error));
            }
          }
        });
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
      value = this.#withRoom(() => this.#tx(write.fn));
    } catch (error) {
      write.reject(error);
      return;
    }
    write.resolve(value);
  }

  /**
   * Runs a group commit's transaction, and once more if it failed on a full disk but a
   * checkpoint then made room in the WAL. The WAL is checkpointed by a worker (checkpointer.ts),
   * and a write may fill the WAL's file before the worker's round lets it start over: without
   * this, a nearly full disk would refuse writes it has room for, and take them again at some
   * later moment. Like a client's retry: the failed try was rolled back as a whole.
   */
  #withRoom<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof DiskFullError) || !this.#makeRoom()) throw error;
      return run();
    }
  }
}
