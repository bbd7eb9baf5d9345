import { afterEach, beforeAll } from "vitest";

// Test plumbing shared by the network tests: cleanup, bounded waits, handle counting, a seeded PRNG.
// Nothing here sleeps for synchronisation: waits are on events, or bounded polls of observable state.

/** Collects cleanup actions and runs them in reverse order (in afterEach), never throwing. */
export class Cleanup {
  #actions: (() => unknown)[] = [];

  add(action: () => unknown): void {
    this.#actions.push(action);
  }

  async run(): Promise<void> {
    for (const action of this.#actions.splice(0).reverse()) {
      try {
        await action();
      } catch {
        // cleanup of something already gone
      }
    }
  }
}

/**
 * Runs the cleanup after each test of the file, then checks that the test left no TCP socket
 * behind (counted with process.getActiveResourcesInfo against the count before the file's
 * first test; closed sockets are released a loop iteration or two after their close events).
 */
export function cleanupAfterEach(cleanup: Cleanup): void {
  const tcpSockets = () => liveHandles().TCPSocketWrap ?? 0;
  let baseline = 0;
  beforeAll(() => {
    baseline = tcpSockets();
  });
  afterEach(async () => {
    await cleanup.run();
    await until(() => tcpSockets() === baseline, "every socket of the test to be released");
  });
}

/** Polls observable state until it holds; bounded. Used where no event announces the change. */
export async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Lets pending I/O callbacks and microtasks run (one turn of the event loop). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves with a value or rejects with `what` after timeoutMs. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export function hex(key: Uint8Array): string {
  return Buffer.from(key).toString("hex");
}

/** A deterministic PRNG (mulberry32) so random abuse can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A whole number in [min, max] from a generator such as seededRandom's. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** A copy of `input` with 1–4 random edits: a bit flipped, 1–8 random bytes inserted, or 1–8 deleted. */
export function mutateBytes(random: () => number, input: Uint8Array): Buffer {
  let bytes = Buffer.from(input);
  for (let edits = randomInt(random, 1, 4); edits > 0 && bytes.length > 0; edits--) {
    const at = randomInt(random, 0, bytes.length - 1);
    const op = randomInt(random, 0, 2);
    if (op === 0) bytes[at] = (bytes[at] as number) ^ (1 << randomInt(random, 0, 7));
    else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(random, randomInt(random, 1, 8)), bytes.subarray(at)]);
    else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + randomInt(random, 1, 8))]);
  }
  return bytes;
}

/** Resources that keep a process alive and that a closed node must not leave behind. */
export function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (name === "TCPSocketWrap" || name === "TCPServerWrap" || name === "Timeout") counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * liveHandles() once it equals `expected`, or whatever it is after timeoutMs. Node frees a
 * closed handle a loop iteration or two after its close callback, so this polls briefly.
 */
export async function handlesSettledTo(expected: Record<string, number>, timeoutMs = 2_000): Promise<Record<string, number>> {
  const same = () => JSON.stringify(sorted(liveHandles())) === JSON.stringify(sorted(expected));
  await until(same, "handles to be released", timeoutMs).catch(() => undefined);
  return liveHandles();
}

function sorted(record: Record<string, number>): [string, number][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
