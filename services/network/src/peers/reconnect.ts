import { backoffDelay, type BackoffPolicy, type Clock, type Logger, type TimerHandle } from "@jarvis/core";

/** The reconnect state of one peer. */
export interface ReconnectState {
  /** Failed attempts since the last channel that carried traffic; the backoff exponent. */
  attempt: number;
  timer: TimerHandle | undefined;
}

/**
 * Schedules redials with exponential backoff and full jitter (design §4), on the Clock.
 * The attempt counter is reset only by a channel that proved useful (see PeerManager).
 */
export class ReconnectScheduler {
  #clock: Clock;
  #policy: BackoffPolicy;
  #random: (() => number) | undefined;
  #log: Logger;

  constructor(clock: Clock, policy: BackoffPolicy, random: (() => number) | undefined, log: Logger) {
    this.#clock = clock;
    this.#policy = policy;
    this.#random = random;
    this.#log = log;
  }

  /** Arms the next redial unless one is armed already. */
  schedule(state: ReconnectState, uid: string, redial: () => void): void {
    if (state.timer) return;
    const delay = backoffDelay(this.#policy, state.attempt, this.#random);
    state.attempt++;
    this.#log.debug({ peer: uid, delay, attempt: state.attempt }, "reconnect scheduled");
    state.timer = this.#clock.setTimeout(() => {
      state.timer = undefined;
      redial();
    }, delay);
  }

  cancel(state: ReconnectState): void {
    state.timer?.cancel();
    state.timer = undefined;
  }
}
