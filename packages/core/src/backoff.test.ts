import { describe, expect, it } from "vitest";
import { Backoff, backoffCeiling, backoffDelay, retry, sleep, type BackoffPolicy } from "./backoff.js";
import { FakeClock } from "./clock.js";

const POLICY: BackoffPolicy = { baseMs: 100, factor: 2, capMs: 1_000, jitter: "none" };

/** Lets pending promise callbacks run (no time passes on any clock). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("backoff delays", () => {
  it("grow by the factor up to the cap", () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffCeiling(POLICY, n))).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    expect(backoffCeiling(POLICY, -3)).toBe(100);
    // 2^5000 is Infinity; the cap still holds.
    expect(backoffCeiling(POLICY, 5_000)).toBe(1_000);
  });

  it("with full jitter are uniform below the ceiling", () => {
    const jittered: BackoffPolicy = { ...POLICY, jitter: "full" };
    expect(backoffDelay(jittered, 2, () => 0)).toBe(0);
    expect(backoffDelay(jittered, 2, () => 0.5)).toBe(200);
    expect(backoffDelay(jittered, 2, () => 0.999999)).toBe(399);
    expect(backoffDelay({ baseMs: 100, factor: 2, capMs: 1_000 }, 0, () => 0.25)).toBe(25);
    expect(backoffDelay(POLICY, 2, () => 0)).toBe(400);
  });

  it("Backoff counts failures and starts over after reset", () => {
    const backoff = new Backoff(POLICY);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400]);
    expect(backoff.attempt).toBe(3);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(100);
  });
});

describe("sleep", () => {
  it("resolves when the clock reaches the delay, not before", async () => {
    const clock = new FakeClock();
    let done = false;
    const slept = sleep(clock, 500).then(() => (done = true));
    clock.advance(499);
    await settle();
    expect(done).toBe(false);
    clock.advance(1);
    await slept;
    expect(done).toBe(true);
  });

  it("rejects with the abort reason and cancels its timer", async () => {
    const clock = new FakeClock();
    const abort = new AbortController();
    const slept = sleep(clock, 500, abort.signal);
    expect(clock.pendingTimers).toBe(1);
    abort.abort(new Error("stop now"));
    await expect(slept).rejects.toThrow("stop now");
    expect(clock.pendingTimers).toBe(0);
  });

  it("rejects at once when already aborted", async () => {
    const clock = new FakeClock();
    await expect(sleep(clock, 500, AbortSignal.abort())).rejects.toThrow();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("retry", () => {
  it("tries again after each backoff delay until it succeeds", async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const calls: number[] = [];
    const retries: [string, number, number][] = [];
    const result = retry(
      async (attempt) => {
        calls.push(clock.now() - start);
        if (attempt < 4) throw new Error(`fail ${attempt}`);
        return "ok";
      },
      { policy: POLICY, clock, onRetry: (error, attempt, delay) => retries.push([(error as Error).message, attempt, delay]) },
    );
    for (const delay of [100, 200, 400]) {
      await settle();
      const before = calls.length;
      clock.advance(delay - 1);
      await settle();
      expect(calls).toHaveLength(before);
      clock.advance(1);
    }
    expect(await result).toBe("ok");
    expect(calls).toEqual([0, 100, 300, 700]);
    expect(retries).toEqual([
      ["fail 1", 1, 100],
      ["fail 2", 2, 200],
      ["fail 3", 3, 400],
    ]);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const result = retry(
      async () => {
        calls++;
        throw new Error(`fail ${calls}`);
      },
      { policy: POLICY, clock, maxAttempts: 3 },
    );
    result.catch(() => {});
    for (let i = 0; i < 5; i++) {
      await settle();
      clock.advance(1_000);
    }
    await expect(result).rejects.toThrow("fail 3");
    expect(calls).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it("throws a non-retryable error at once", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const fatal = new Error("fatal");
    const result = retry(
      async () => {
        calls++;
        throw fatal;
      },
      { policy: POLICY, clock, isRetryable: (error) => error !== fatal },
    );
    await expect(result).rejects.toBe(fatal);
    expect(calls).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("stops waiting when aborted and does not call again", async () => {
    const clock = new FakeClock();
    const abort = new AbortController();
    let calls = 0;
    const result = retry(
      async () => {
        calls++;
        throw new Error("down");
      },
      { policy: POLICY, clock, signal: abort.signal },
    );
    result.catch(() => {});
    await settle();
    expect(clock.pendingTimers).toBe(1);
    abort.abort(new Error("user cancelled"));
    await expect(result).rejects.toThrow("user cancelled");
    clock.advance(10_000);
    await settle();
    expect(calls).toBe(1);
  });

  it("does not start when already aborted", async () => {
    let calls = 0;
    await expect(retry(async () => ++calls, { policy: POLICY, clock: new FakeClock(), signal: AbortSignal.abort() })).rejects.toThrow();
    expect(calls).toBe(0);
  });
});
