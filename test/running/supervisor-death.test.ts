import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TestNode, eventually } from "../helpers/cli.js";
import { childPid, processesOfProfile } from "./processes.js";

interface Status {
  daemon: string;
  locked: boolean;
}

/** The supervisor is what keeps a node in one piece: without it nothing of the node runs on. */
describe("when the supervisor goes", () => {
  let node: TestNode | undefined;
  afterEach(async () => {
    await node?.destroy();
    node = undefined;
  });

  it("kill -9 of the supervisor: its services exit by themselves, and the next up works", async () => {
    node = new TestNode("orphan");
    await node.init();
    const current = node;
    const services = await eventually(async () => {
      const pids = [childPid(current, "network"), childPid(current, "session")];
      return pids.every((pid) => typeof pid === "number") ? pids : undefined;
    }, 10_000, "both services to be running");
    process.kill(node.daemonPid() as number, "SIGKILL");
    // Issue 16: no process of the profile after 5 s (the services give themselves 1.5 s).
    const home = node.home;
    await eventually(async () => (processesOfProfile(home).length === 0 ? true : undefined), 5_000, "every process of the profile to exit");
    expect((await node.json<Status>(["status"])).daemon).toBe("stopped");
    await node.up();
    const status = await node.json<Status>(["status"]);
    expect(status).toMatchObject({ daemon: "running", locked: false });
    for (const pid of services) expect(processesOfProfile(home)).not.toContain(pid);
  });

  it("run/ deleted while running: status still finds the node, and down stops every process", async () => {
    node = new TestNode("norun");
    await node.init();
    const home = node.home;
    rmSync(join(home, "run"), { recursive: true, force: true });
    // Found either through the restored run/ files or through the processes themselves.
    const status = await node.json<Status>(["status"]);
    expect(["running", "unreachable"]).toContain(status.daemon);
    // The supervisor puts run/ back and restarts its services; the node comes back unlocked.
    await eventually(async () => {
      const s = await node?.json<Status>(["status"]);
      return s?.daemon === "running" && !s.locked ? true : undefined;
    }, 20_000, "the node to be reachable and unlocked again");
    expect(processesOfProfile(home).length).toBe(3);
    await node.ok(["down"]);
    expect(processesOfProfile(home)).toEqual([]);
  });

  it("down stops a node whose run/ is gone even before the supervisor restores it", async () => {
    node = new TestNode("gone");
    await node.init();
    const home = node.home;
    rmSync(join(home, "run"), { recursive: true, force: true });
    expect((await node.cli(["down"])).code).toBe(0);
    expect(processesOfProfile(home)).toEqual([]);
  });
});
