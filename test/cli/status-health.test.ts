import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "../helpers/cli.js";

interface Status {
  daemon: string;
  health: string;
  locked: boolean;
}

/** `jarvis status` shows the session's grpc.health.v1 answer, which follows lock and unlock. */
describe("health in jarvis status", () => {
  const node = new TestNode("health");

  beforeAll(async () => {
    await node.init();
  });
  afterAll(async () => {
    await node.destroy();
  });

  it("is serving while unlocked, not_serving while locked, serving again after unlock", async () => {
    const healthIs = (word: string) => eventually(async () => ((await node.json<Status>(["status"])).health === word ? true : undefined), 20_000, `health ${word}`);
    await healthIs("serving");
    expect(await node.ok(["status"])).toContain("health: serving\n");

    await node.ok(["lock"]);
    expect(await node.json<Status>(["status"])).toMatchObject({ daemon: "running", locked: true, health: "not_serving" });
    expect(await node.ok(["status"])).toContain("health: not serving\n");

    await node.ok(["unlock"]);
    await healthIs("serving");
  });

  it("is unknown when nothing answers", async () => {
    const stopped = new TestNode("nohealth");
    try {
      expect(await stopped.json<Status>(["status"])).toMatchObject({ daemon: "stopped", health: "unknown" });
    } finally {
      await stopped.destroy();
    }
  });
});
