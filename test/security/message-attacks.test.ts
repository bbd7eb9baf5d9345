import { afterAll, beforeAll, describe, it } from "vitest";
import { messageAttacks } from "./message-attacks.js";

/**
 * Issue 15, message identity and receiver rules, against a real node (bob, `jarvis up`). The
 * other nodes are raw Noise peers with their own keys, driven by the test. The attacks are in
 * message-attacks.ts, shared with test/reliability.
 */
describe("message identity and receiver rules against a real node", () => {
  const { victim, contacts, steps } = messageAttacks();
  beforeAll(() => victim.start(contacts), 60_000);
  afterAll(() => victim.destroy());
  for (const step of steps) it(step.name, () => step.run(), step.timeoutMs);
});
