import { foregroundClock, retry, type BackoffPolicy } from "@jarvis/core";
import { CliError } from "./cli-error.js";

/** Quick first looks (a daemon is often up within 100 ms), then no more than twice a second. */
const POLL: BackoffPolicy = { baseMs: 50, factor: 1.5, capMs: 500, jitter: "none" };

class NotYet extends Error {}

export interface PollOptions {
  timeoutMs: number;
  /** The error when time is up. */
  failure: () => CliError;
  /** Whether an error thrown by check means "try again" (default) or is final; or a test per error. */
  retryErrors?: boolean | ((error: unknown) => boolean);
}

/**
 * Calls check through the one retry helper until it returns a value, waiting a backoff delay
 * between looks; gives up with options.failure() after timeoutMs.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = new AbortController();
  const timer = foregroundClock.setTimeout(() => deadline.abort(), options.timeoutMs);
  try {
    return await retry(
      async () => {
        const value = await check();
        if (value === undefined) throw new NotYet();
        return value;
      },
      {
        policy: POLL,
        clock: foregroundClock,
        signal: deadline.signal,
        isRetryable: (error) =>
          error instanceof NotYet || (typeof options.retryErrors === "function" ? options.retryErrors(error) : options.retryErrors !== false),
      },
    );
  } catch (error) {
    if (deadline.signal.aborted) throw options.failure();
    throw error;
  } finally {
    timer.cancel();
  }
}
