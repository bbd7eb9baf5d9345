import { describe, it } from "vitest";
import { checkLoad } from "./load-scenario.js";
import { scaled } from "./scale.js";

/**
 * Issue 20, load: nodes in a full mesh, each sending its messages round-robin to all the
 * others; every receiver ends with exactly what was sent to it, once, in each sender's order.
 * The soak is the full size: 50 nodes (1,225 Noise channels over loopback TCP), 1,000 messages
 * each, and no event-loop stall over 200 ms. CI runs 30 nodes (435 channels) × 20 messages:
 * on the shared 2-core machine, connecting 1,225 channels alone took 80 s of the ~90 s budget.
 * In CI the stall is reported, not asserted: there it is mostly the machine (see the reference).
 */
describe("load: a full mesh", () => {
  it("delivers every message exactly once, in order per sender", () => checkLoad("mesh", scaled(30, 50), scaled(20, 1_000)), scaled(300_000, 0));
});
