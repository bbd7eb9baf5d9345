import { describe, it } from "vitest";
import { checkLoad } from "./load-scenario.js";
import { scaled } from "./scale.js";

/**
 * Issue 20, load: nodes in a full mesh, each in its own process, each sending its messages
 * round-robin to all the others (all nodes together at OFFERED_RATE); every receiver ends with
 * exactly what was sent to it, once, in each sender's order. The soak is the full size: 50
 * nodes (1,225 Noise channels over loopback TCP), 1,000 messages each, and no node's own work
 * holding its loop over 200 ms. CI runs 30 nodes (435 channels) × 20 messages and reports the
 * stalls without asserting them (see load-star.test.ts).
 */
describe("load: a full mesh", () => {
  it("delivers every message exactly once, in order per sender", () => checkLoad("mesh", scaled(30, 50), scaled(20, 1_000)), scaled(300_000, 0));
});
