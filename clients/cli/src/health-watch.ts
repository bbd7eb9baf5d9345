import type { Clock, TimerHandle } from "@jarvis/core";

/**
 * One grpc.health.v1 Check of a service. Resolves when the service answered (any status:
 * a locked session says NOT_SERVING, and that is still a process that answers); rejects or
 * never settles when it does not. It must give up when `signal` aborts.
 */
export type HealthProbe = (signal: AbortSignal) => Promise<void>;

export interface HealthPolicy {
  /** Pause between the end of one check and the start of the next. */
  intervalMs: number;
  /** A check not answered within this long is a failed check. */
  timeoutMs: number;
  /** After this many failed checks in a row, a service that had answered is hung. */
  maxFailures: number;
  /** A service that has not answered once within this long of its start is hung too. */
  startTimeoutMs: number;
}

/**
 * Generous on purpose: a service on a loaded machine may be slow to answer, and killing a
 * healthy one is worse than noticing a hung one a few seconds later. A hung service is found
 * within about maxFailures × (timeoutMs + intervalMs) ≈ 15 s.
 */
export const DEFAULT_HEALTH_POLICY: HealthPolicy = { intervalMs: 2_000, timeoutMs: 3_000, maxFailures: 3, startTimeoutMs: 20_000 };

export interface HealthWatchEvents {
  /** The first answer: the service is started (it listens and its event loop runs). */
  onStarted: () => void;
  /** After it started: a check failed (false), or one answered again after failing (true). */
  onAnswering?: (answering: boolean) => void;
  /** The service stopped answering (or never did): the reason, for the log and `status`. */
  onHung: (reason: string) => void;
}

/**
 * Checks one service process's health over and over on the injectable clock, from its spawn
 * until stop(). An exited process is the supervisor's business (it sees the exit); this finds
 * the process that is alive but no longer does anything — stopped, deadlocked, spinning.
 */
export class HealthWatch {
  #probe: HealthProbe;
  #clock: Clock;
  #policy: HealthPolicy;
  #events: HealthWatchEvents;
  #startedAt: number;
  #answered = false;
  #failures = 0;
  #stopped = false;
  #timer: TimerHandle | undefined;
  #inFlight: AbortController | undefined;

  constructor(probe: HealthProbe, clock: Clock, policy: HealthPolicy, events: HealthWatchEvents) {
    this.#probe = probe;
    this.#clock = clock;
    this.#policy = policy;
    this.#events = events;
    this.#startedAt = clock.now();
    void this.#check();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#inFlight?.abort();
  }

  async #check(): Promise<void> {
    const abort = new AbortController();
    this.#inFlight = abort;
    const ok = await this.#answersWithin(abort);
    this.#inFlight = undefined;
    if (this.#stopped) return;
    if (ok && !this.#answered) {
      this.#answered = true;
      this.#events.onStarted();
    } else if (ok) {
      if (this.#failures > 0) this.#events.onAnswering?.(true);
      this.#failures = 0;
    } else if (!this.#answered) {
      const waited = this.#clock.now() - this.#startedAt;
      if (waited >= this.#policy.startTimeoutMs) return this.#hung(`did not answer its health check within ${this.#policy.startTimeoutMs / 1000} s of starting`);
    } else {
      this.#failures += 1;
      if (this.#failures >= this.#policy.maxFailures) return this.#hung(`stopped answering its health check (${this.#failures} checks in a row, ${this.#policy.timeoutMs / 1000} s each)`);
      if (this.#failures === 1) this.#events.onAnswering?.(false);
    }
    // Until it first answers, ask often: its start is what the supervisor (and `up`) waits for.
    const pause = this.#answered ? this.#policy.intervalMs : Math.min(this.#policy.intervalMs, 100);
    this.#timer = this.#clock.setTimeout(() => void this.#check(), pause);
  }

  #hung(reason: string): void {
    this.#stopped = true;
    this.#events.onHung(reason);
  }

  /** The probe against the clock: whichever comes first, the answer or the timeout. */
  #answersWithin(abort: AbortController): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        abort.abort();
        resolve(false);
      }, this.#policy.timeoutMs);
      this.#probe(abort.signal).then(
        () => {
          timer.cancel();
          resolve(true);
        },
        () => {
          timer.cancel();
          resolve(false);
        },
      );
    });
  }
}
