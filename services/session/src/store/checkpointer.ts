import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { runCheckpointWorker, Control, State, CHECKPOINT_DELAY_MS, MAX_CHECKPOINT_PASSES, WAL_CATCH_UP_FRAMES, WAL_RESTART_FRAMES, type CheckpointWorkerData } from "./checkpoint-worker.js";

/** How long a stop or a pause waits for the worker's checkpoint in progress before giving up on it. */
const STOP_WAIT_MS = 10_000;

/**
 * Folds the WAL into the main file on a worker thread with a connection of its own, so the
 * event loop never runs a checkpoint. SQLite's automatic checkpoint runs inside the COMMIT
 * that crosses 1,000 WAL frames: copying the pages (each decrypted from the WAL, encrypted
 * again for the main file) and two fsyncs. At 1,000 lone messages a second that stalled a
 * session's commit 2–11 ms every ~130 ms, a direct cost to the p99 of end-to-end latency.
 * The main connection turns it off (wal_autocheckpoint = 0) and counts its commits here; the
 * worker runs PASSIVE checkpoints, which never block a writer, CHECKPOINT_DELAY_MS after
 * commits arrive. Committed data is in the WAL before any checkpoint (synchronous = NORMAL as
 * before), so a killed process loses nothing it committed, whatever the worker was doing.
 *
 * Main thread and worker share a few Int32 words (commits, stop, state, a lock) instead of
 * messages: a commit costs one atomic add and notify (~40 ns), and stop() and exclusive() are
 * synchronous, as the store's close, rekey and export are.
 */
export class Checkpointer {
  readonly #worker: Worker;
  readonly #control: Int32Array;
  #failureListeners: ((error: Error) => void)[] = [];
  #failure: Error | undefined;
  #stopped = false;

  /**
   * `key` is copied into memory transferred to the worker; the caller still owns (and wipes)
   * its own. `tuning` is for tests (defaults: CHECKPOINT_DELAY_MS, WAL_CATCH_UP_FRAMES, WAL_RESTART_FRAMES).
   */
  constructor(path: string, cipher: string, key: Buffer, tuning: { delayMs?: number; catchUpFrames?: number; restartFrames?: number } = {}) {
    this.#control = new Int32Array(new SharedArrayBuffer(Control.Words * Int32Array.BYTES_PER_ELEMENT));
    // Moved, not copied, to the worker: after the transfer this thread holds no copy of it.
    const keyCopy = new Uint8Array(key).buffer;
    const data: CheckpointWorkerData = {
      path,
      cipher,
      key: keyCopy,
      control: this.#control,
      sqlitePath: createRequire(import.meta.url).resolve("better-sqlite3-multiple-ciphers"),
      layout: {
        control: Control,
        state: State,
        delayMs: tuning.delayMs ?? CHECKPOINT_DELAY_MS,
        catchUpFrames: tuning.catchUpFrames ?? WAL_CATCH_UP_FRAMES,
        restartFrames: tuning.restartFrames ?? WAL_RESTART_FRAMES,
        maxPasses: MAX_CHECKPOINT_PASSES,
      },
    };
    // The worker's code is a self-contained function run from its source text: the same code
    // then runs from the compiled dist and from TypeScript sources under the test runner.
    this.#worker = new Worker(`(${runCheckpointWorker.toString()})(require, require("node:worker_threads").workerData)`, {
      eval: true,
      workerData: data,
      transferList: [keyCopy],
    });
    this.#worker.unref();
    this.#worker.on("message", (message: { failed?: string }) => {
      if (message.failed !== undefined) this.#fail(new Error(`WAL checkpoint worker failed: ${message.failed}`));
    });
    this.#worker.on("error", (error) => this.#fail(error));
    this.#worker.on("exit", (code) => {
      if (!this.#stopped) this.#fail(new Error(`WAL checkpoint worker exited (code ${code}) while its store was open`));
    });
  }

  /** Called after each commit of the main connection: the worker wakes and checkpoints soon. */
  committed(): void {
    Atomics.store(this.#control, Control.Hold, 0);
    Atomics.add(this.#control, Control.Commits, 1);
    Atomics.notify(this.#control, Control.Commits);
  }

  /**
   * Called when a transaction of the main connection failed: no checkpoint until the next
   * commit. A checkpoint is what lets the WAL start over, so on a full disk it would make room
   * in the WAL for writes that were just refused; the store then takes writes again at some
   * moment after refusing them, not when space returns (nor, as SQLite's own checkpoint, only
   * inside a commit). Held, a full disk refuses every write until it has room again.
   */
  hold(): void {
    Atomics.store(this.#control, Control.Hold, 1);
  }

  /** Hears a failure of the worker (then the main connection checkpoints by itself again). */
  onFailure(listener: (error: Error) => void): void {
    if (this.#failure) listener(this.#failure);
    else this.#failureListeners.push(listener);
  }

  /** Whether checkpoints wait for the next commit (after a failed transaction, see hold()). */
  get held(): boolean {
    return Atomics.load(this.#control, Control.Hold) === 1;
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Checkpoints the worker has run so far, and the WAL frames the last one found (diagnostics, tests). */
  get progress(): { checkpoints: number; walFrames: number } {
    return { checkpoints: Atomics.load(this.#control, Control.Checkpoints), walFrames: Atomics.load(this.#control, Control.WalFrames) };
  }

  /**
   * Runs `fn` (a TRUNCATE checkpoint, a rekey) while the worker is not checkpointing: two
   * checkpoints never run at once, so one that must complete is not refused as busy.
   */
  exclusive<T>(fn: () => T): T {
    this.#lock();
    try {
      return fn();
    } finally {
      Atomics.store(this.#control, Control.Lock, 0);
      Atomics.notify(this.#control, Control.Lock);
    }
  }

  /** Stops the worker and closes its connection before returning (store close, rekey). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    // A worker that has not opened its connection yet never will.
    if (Atomics.compareExchange(this.#control, Control.State, State.Starting, State.Closed) === State.Starting) return;
    Atomics.store(this.#control, Control.Stop, 1);
    Atomics.notify(this.#control, Control.Stop);
    Atomics.add(this.#control, Control.Commits, 1);
    Atomics.notify(this.#control, Control.Commits);
    const deadline = Date.now() + STOP_WAIT_MS;
    for (let state = Atomics.load(this.#control, Control.State); state !== State.Closed; state = Atomics.load(this.#control, Control.State)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(this.#control, Control.State, state, left);
    }
    if (Atomics.load(this.#control, Control.State) !== State.Closed) void this.#worker.terminate();
  }

  #lock(): void {
    const deadline = Date.now() + STOP_WAIT_MS;
    while (Atomics.compareExchange(this.#control, Control.Lock, 0, 1) !== 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("the WAL checkpoint worker held its lock too long");
      Atomics.wait(this.#control, Control.Lock, 1, left);
    }
  }

  #fail(error: Error): void {
    if (this.#stopped || this.#failure) return;
    this.#failure = error;
    for (const listener of this.#failureListeners.splice(0)) listener(error);
  }
}
