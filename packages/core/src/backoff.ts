import type { Clock, TimerHandle } from "./clock.js";

/**
 * Exponential backoff with full jitter: the n-th retry (n from 0) waits a uniformly random
 * time in [0, min(cap, base * factor^n)]. Full jitter spreads reconnect storms best.
 *
 * This module is the one retry helper of the code base: the supervisor, the session's link to
 * the network, the CLI and TUI connections, peer reconnects and the outbox all wait through it,
 * on an injectable Clock, so tests advance time instead of sleeping.
 */
export interface BackoffPolicy {
  baseMs: number;
  factor: number;
  capMs: number;
  /** "full" (default): a random delay up to the ceiling; "none": exactly the ceiling. */
  jitter?: "full" | "none";
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, factor: 2, capMs: 5 * 60_000 };

/** The upper bound of the n-th delay, before jitter. */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  const raw = policy.baseMs * Math.pow(policy.factor, Math.max(0, attempt));
  return Math.min(policy.capMs, Number.isFinite(raw) ? raw : policy.capMs);
}

/** The n-th delay, with the policy's jitter applied. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(policy, attempt);
  return policy.jitter === "none" ? ceiling : Math.floor(random() * ceiling);
}

/**
 * The state of one thing that retries: how many attempts have failed in a row, and how long to
 * wait before the next. reset() after a success.
 */
export class Backoff {
  readonly policy: BackoffPolicy;
  #random: () => number;
  #attempt = 0;

  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    this.policy = policy;
    this.#random = random;
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next try; counts one more failure. */
  next(): number {
    return backoffDelay(this.policy, this.#attempt++, this.#random);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Waits on the clock; rejects with the signal's reason if it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    let timer: TimerHandle | undefined = undefined;
    const onAbort = () => {
      timer?.cancel();
      reject(abortReason(signal as AbortSignal));
    };
    timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface RetryOptions {
  policy: BackoffPolicy;
  clock: Clock;
  random?: () => number;
  signal?: AbortSignal;
  /** Total tries, the first included; unlimited when absent. */
  maxAttempts?: number;
  /** Errors for which this returns false are thrown at once. Default: every error is retried. */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each wait, e.g. to log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls fn until it resolves, waiting a backoff delay between failures. Gives up (throwing the
 * last error) after maxAttempts, on an error that is not retryable, or when the signal aborts.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = new Backoff(options.policy, options.random);
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    try {
      return await fn(attempt);
    } catch (error) {
      const exhausted = options.maxAttempts !== undefined && attempt >= options.maxAttempts;
      if (exhausted || options.signal?.aborted || (options.isRetryable && !options.isRetryable(error))) throw error;
      const delay = backoff.next();
      options.onRetry?.(error, attempt, delay);
      await sleep(options.clock, delay, options.signal);
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}
