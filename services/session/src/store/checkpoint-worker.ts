/** Indices of the words the main thread and the checkpoint worker share (an Int32Array). */
export const Control = {
  /** Commits of the main connection so far: the worker wakes when it changes. */
  Commits: 0,
  /** 1 once the store stops: the worker closes its connection and ends. */
  Stop: 1,
  /** The worker's State. */
  State: 2,
  /** 1 while one side checkpoints (the worker, or the main thread in exclusive()). */
  Lock: 3,
  /** WAL frames the worker's last checkpoint found (diagnostics and tests). */
  WalFrames: 4,
  /** Checkpoints the worker has run (diagnostics and tests). */
  Checkpoints: 5,
  /** 1 after the main connection's last transaction failed: no checkpoint until one commits (Checkpointer.hold). */
  Hold: 6,
  Words: 7,
} as const;

export const State = { Starting: 0, Open: 1, Closed: 2 } as const;

/** Gathers the commits of this long into one checkpoint: fewer fsyncs, and a page written often is copied once. */
export const CHECKPOINT_DELAY_MS = 100;
/**
 * A WAL this long after the catch-up passes means a write load without pauses kept them from
 * ever catching up (a writer restarts the WAL only once a checkpoint has caught up completely):
 * one RESTART checkpoint then holds writers off while it copies the rest, so the WAL stays
 * bounded. The main thread's next commit may wait for it (in SQLite's busy handler): the
 * price of a bound, paid only under such a load (~1,600 lone-message commits in a row).
 */
export const WAL_RESTART_FRAMES = 16_384;

/**
 * A WAL this long gets catch-up passes until it can restart (see the worker's loop): ~600
 * lone-message commits, 16 MiB. Shorter, one pass a round keeps its frames copied.
 */
export const WAL_CATCH_UP_FRAMES = 4_096;
/** Catch-up passes per round at most. */
export const MAX_CHECKPOINT_PASSES = 8;

export interface CheckpointWorkerData {
  path: string;
  cipher: string;
  /** The store key, transferred (moved) to the worker, wiped once its connection is open. */
  key: ArrayBuffer;
  control: Int32Array;
  /** Where better-sqlite3-multiple-ciphers resolves from the session's package. */
  sqlitePath: string;
  /** The shared words' layout and the timing, handed over because the worker's code sees no module scope. */
  layout: { control: typeof Control; state: typeof State; delayMs: number; catchUpFrames: number; restartFrames: number; maxPasses: number };
}

interface WorkerDb {
  pragma(source: string): unknown;
  close(): void;
}

/**
 * The checkpoint worker's whole program. It runs from its source text (Checkpointer), so it
 * uses nothing from this module's scope: everything arrives as `require` and `data`.
 */
export function runCheckpointWorker(load: (id: string) => unknown, data: CheckpointWorkerData): void {
  const { parentPort } = load("node:worker_threads") as { parentPort: { postMessage(message: unknown): void } };
  const layout = data.layout;
  const C = layout.control;
  const S = layout.state;
  const control = data.control;
  const key = new Uint8Array(data.key);
  if (Atomics.compareExchange(control, C.State, S.Starting, S.Open) !== S.Starting) {
    key.fill(0);
    return;
  }
  const stopping = () => Atomics.load(control, C.Stop) === 1;
  /** One round: the frames the WAL held when it caught up (or when it gave up catching up). */
  const checkpoint = (db: WorkerDb): number => {
    let frames = -1;
    // A pass copies what was committed up to its start. Only a WAL checkpointed completely
    // restarts (at the writer's next transaction), and under a steady load one pass always
    // ends a few commits behind: once the WAL is long, passes follow until one finds no frame
    // the last did not (each copies only what came during the one before, so they shorten
    // until one ends between two commits). Not every round: each pass costs two fsyncs.
    for (let pass = 0; pass < layout.maxPasses; pass++) {
      const [result] = db.pragma("wal_checkpoint(PASSIVE)") as { log: number; checkpointed: number }[];
      const log = result?.log ?? 0;
      const caughtUp = log === frames;
      frames = log;
      if (caughtUp || log < layout.catchUpFrames || (result?.checkpointed ?? 0) < log) break;
    }
    if (frames < layout.restartFrames) return frames;
    const [restart] = db.pragma("wal_checkpoint(RESTART)") as { log: number }[];
    return restart?.log ?? frames;
  };
  let db: WorkerDb | undefined;
  try {
    const Database = load(data.sqlitePath) as new (path: string, options: { fileMustExist: boolean }) => WorkerDb;
    db = new Database(data.path, { fileMustExist: true });
    db.pragma(`cipher='${data.cipher}'`);
    // A view of the transferred memory, not a copy of it: key.fill(0) wipes the only one.
    db.pragma(`hexkey='${Buffer.from(key.buffer, key.byteOffset, key.length).toString("hex")}'`);
    key.fill(0);
    // This connection only checkpoints; the main one decides what is committed.
    db.pragma("wal_autocheckpoint = 0");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 1000");
    // From 0, not the count now: commits made while this thread was starting count too.
    let seen = 0;
    while (!stopping()) {
      Atomics.wait(control, C.Commits, seen);
      if (stopping()) break;
      Atomics.wait(control, C.Stop, 0, layout.delayMs);
      if (stopping()) break;
      seen = Atomics.load(control, C.Commits);
      if (Atomics.load(control, C.Hold) === 1) continue;
      while (Atomics.compareExchange(control, C.Lock, 0, 1) !== 0) Atomics.wait(control, C.Lock, 1);
      try {
        const frames = checkpoint(db);
        Atomics.store(control, C.WalFrames, frames);
        Atomics.add(control, C.Checkpoints, 1);
      } catch (error) {
        // A full disk is no failure of ours: everything committed is safe in the WAL, and the
        // next round tries again once there is room. Anything else ends the worker.
        if ((error as { code?: string }).code !== "SQLITE_FULL") throw error;
      } finally {
        Atomics.store(control, C.Lock, 0);
        Atomics.notify(control, C.Lock);
      }
    }
  } catch (error) {
    parentPort.postMessage({ failed: (error as Error).message });
  } finally {
    key.fill(0);
    try {
      db?.close();
    } finally {
      Atomics.store(control, C.State, S.Closed);
      Atomics.notify(control, C.State);
    }
  }
}
