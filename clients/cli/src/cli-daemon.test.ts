import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { JARVIS_BIN, TEST_PASSWORD, TestNode } from "../../../test/helpers/cli.js";

/** `jarvis` with a real node behind it: a watcher whose reader goes away, and a clean stop. */
describe("jarvis with a running node", () => {
  const node = new TestNode("pipe");
  afterAll(() => node.destroy());

  it("watch ends quietly with exit 0 when its reader closes the pipe (jarvis watch | head -1)", async () => {
    await node.init();
    const child = spawn(process.execPath, [JARVIS_BIN, "--home", node.home, "watch", "--json", "--after", "0"], {
      env: { ...process.env, JARVIS_PASSWORD: TEST_PASSWORD },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Like head -1: take the first line, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdout.destroy();
    // A new event makes watch write to the closed pipe.
    await node.ok(["lock"]);
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
  });

  it("stops every process with its last log line saying so", async () => {
    await node.ok(["down"]);
    for (const service of ["daemon", "session", "network"]) {
      const lines = readFileSync(join(node.home, "logs", `${service}.log`), "utf8").trim().split("\n");
      expect((JSON.parse(lines.at(-1) as string) as { msg: string }).msg, `${service}: ${lines.slice(-3).join("\n")}`).toBe("stopped");
    }
  });
});
