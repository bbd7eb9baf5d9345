/**
 * Exponential backoff with full jitter: the n-th retry (n from 0) waits a uniformly random
 * time in [0, min(cap, base * factor^n)]. Full jitter spreads reconnect storms best.
 */
export interface BackoffPolicy {
  baseMs: number;
  factor: number;
  capMs: number;
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, factor: 2, capMs: 5 * 60_000 };

/** The upper bound of the n-th delay, before jitter. */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  const raw = policy.baseMs * Math.pow(policy.factor, Math.max(0, attempt));
  return Math.min(policy.capMs, Number.isFinite(raw) ? raw : policy.capMs);
}

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(policy, attempt));
}
