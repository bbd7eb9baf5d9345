import { afterAll, beforeAll, describe, it } from "vitest";
import { groupAndNameAttacks } from "./group-and-name-attacks.js";

/**
 * Issue 15 against a real node (`jarvis up`: daemon, network and session processes): the
 * victim is bob; alice (the group's creator) and mallory (a plain member) are raw Noise peers
 * driven by the test with their own keys, so they can send anything a hostile node could.
 * The attacks themselves are in group-and-name-attacks.ts, shared with test/reliability.
 */
describe("hostile group members and contacts against a real node", () => {
  const { victim, contacts, steps } = groupAndNameAttacks();
  beforeAll(() => victim.start(contacts), 60_000);
  afterAll(() => victim.destroy());
  for (const step of steps) it(step.name, () => step.run(), step.timeoutMs);
});
