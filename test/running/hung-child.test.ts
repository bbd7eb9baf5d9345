import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "../helpers/cli.js";
import { childPid, sessionClient } from "./processes.js";

interface Status {
  locked: boolean;
  health: string;
  services: { name: string; state: string; restarts: number; lastExit: string | null; health: string | null }[];
}

/**
 * Issue 19: the supervisor consults grpc.health.v1. A service that is alive but answers
 * nothing (here: SIGSTOP, as a deadlock would look from outside) is not waited on forever: its
 * health goes silent, the supervisor kills it and starts another, and the node comes back as
 * the person left it (unlocked: the key is handed over as after a crash).
 */
describe("a hung service", () => {
  const node = new TestNode("hung");
  const stopped: number[] = [];

  afterAll(async () => {
    // Whatever happened, nothing we stopped stays behind stopped.
    for (const pid of stopped) {
      for (const signal of ["SIGCONT", "SIGKILL"] as const) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone: what the supervisor was meant to do
        }
      }
    }
    await node.destroy();
  });

  it("is killed and replaced when its health stops answering; the node stays unlocked", async () => {
    await node.init();
    const before = await node.json<Status>(["status"]);
    expect(before.services.find((s) => s.name === "session")).toMatchObject({ state: "running", health: "answering", restarts: 0 });

    const hung = await eventually(async () => childPid(node, "session"), 20_000, "the session pid");
    stopped.push(hung);
    process.kill(hung, "SIGSTOP");

    const replacement = await eventually(async () => {
      const pid = childPid(node, "session");
      return pid !== undefined && pid !== hung ? pid : undefined;
    }, 90_000, "the supervisor to replace the stopped session");
    // The stopped one was killed (a stopped process still dies of SIGKILL), not left behind.
    await eventually(async () => (isGone(hung) ? true : undefined), 10_000, "the stopped session to be gone");

    const after = await node.json<Status>(["status"]);
    expect(after.locked).toBe(false);
    expect(after.health).toBe("serving");
    const session = after.services.find((s) => s.name === "session");
    expect(session).toMatchObject({ state: "running", restarts: 1, health: "answering" });
    expect(session?.lastExit).toMatch(/^hung: it stopped answering its health check \(3 checks in a row, 3 s each\); killed$/);
    // The new session answers requests, and the log says what happened to the old one.
    expect((await sessionClient(node).getStatus({})).locked).toBe(false);
    expect(childPid(node, "session")).toBe(replacement);
    const log = readFileSync(join(node.home, "logs", "daemon.log"), "utf8");
    expect(log).toContain('"msg":"service hung; killing it"');
  }, 150_000);
});

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // A zombie (not yet reaped by its parent) is dead for our purposes.
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z") ?? false;
  } catch {
    return true;
  }
}
