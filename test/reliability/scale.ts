// One switch between the bounded reliability runs that `npm test` includes and the long
// variants `npm run soak` runs. Every scenario takes its counts from here, so CI stays in
// minutes and a soak is the same code with bigger numbers.
export const soak = process.env.JARVIS_SOAK === "1";

/** The CI figure normally, the soak figure under `npm run soak`. */
export function scaled<T>(ci: T, long: T): T {
  return soak ? long : ci;
}

/**
 * A seed for a randomised scenario: JARVIS_SEED replays a failure, otherwise a fresh one.
 * Tests print the seed they used, so any failure can be replayed exactly.
 */
export function seedFromEnv(fallback: number = Math.floor(Math.random() * 2 ** 31)): number {
  const fromEnv = process.env.JARVIS_SEED;
  if (fromEnv === undefined || fromEnv === "") return fallback;
  const seed = Number(fromEnv);
  if (!Number.isSafeInteger(seed)) throw new Error(`JARVIS_SEED must be an integer, got ${fromEnv}`);
  return seed;
}

/** The same seeded generator (mulberry32) the network's abuse tests use: a seed replays the faults. */
export { seededRandom } from "@jarvis/network/testing";
