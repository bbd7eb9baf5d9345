import { describe, it } from "vitest";
import { rekeyCrashAttack } from "./rekey-crash.js";

/**
 * Issue 15, stored secrets: a password change killed at any point leaves a store that the old
 * or the new password opens, with every message (the attack is in rekey-crash.ts).
 */
const MESSAGES = 4000;
const SEEDS = Array.from({ length: 15 }, (_, i) => i + 1);

describe("changing the password is crash-safe", () => {
  it(`leaves the old or the new password working, with all ${MESSAGES} messages, after a SIGKILL at ${SEEDS.length} points`, async () => {
    const outcomes = await rekeyCrashAttack({ messages: MESSAGES, seeds: SEEDS });
    console.log(outcomes.join("\n"));
  }, 240_000);
});
