import { describe, it } from "vitest";
import { checkLoad } from "./load-scenario.js";
import { scaled } from "./scale.js";

/**
 * Issue 20, load: 50 nodes in a star, each in its own process (the hub has 49 channels), each
 * leaf sending its messages to the hub and the hub spreading as many over the leaves, all at
 * OFFERED_RATE together; every receiver ends with exactly what was sent to it, once, in each
 * sender's order. CI sends 20 per node, the soak 1,000. Each node's longest event-loop stall
 * (monitorEventLoopDelay) is reported with how much of it the node ran, waited for a core or was
 * blocked, beside an idle reference process; the soak asserts that no node's own work (its main
 * thread running) held its loop over 200 ms.
 */
describe("load: a star", () => {
  it("delivers every message exactly once, in order per sender", () => checkLoad("star", scaled(50, 50), scaled(20, 1_000)), scaled(300_000, 0));
});
