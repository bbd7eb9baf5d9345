import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "../helpers/cli.js";
import { childPid } from "./processes.js";

interface Service {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  lastExit: string | null;
  message: string | null;
  attempts: { exitedAt: string; exit: string; delayMs: number | null }[];
}

/**
 * Issue 16, end to end: a service that keeps crashing is given up on, visibly. The cause is a
 * real one, not a test hook: a regular file left where the network service's socket goes
 * (run/network.sock) makes every start of that service fail ("exists and is not a socket").
 * The supervisor restarts it with growing backoff, then stops trying and says so in `status`
 * (text and --json) and in its log.
 */
describe("a service in a crash loop", () => {
  const node = new TestNode("loop");
  afterAll(() => node.destroy());

  it("is restarted with backoff, then given up on, and status and the log say so", async () => {
    await node.init();
    const first = await eventually(async () => childPid(node, "network"), 20_000, "the network pid");
    // The running service keeps its listener; its successors find a file instead of a socket.
    const socket = join(node.home, "run", "network.sock");
    rmSync(socket, { force: true });
    writeFileSync(socket, "not a socket\n");
    process.kill(first, "SIGKILL");

    // 1 kill + 6 failed restarts = 7 exits in a row; the waits add up to 31.5 s of backoff.
    const network = await eventually(
      async () => {
        const status = await node.json<{ services: Service[] }>(["status"]);
        const service = status.services.find((s) => s.name === "network");
        return service?.state === "failed" ? service : undefined;
      },
      150_000,
      "the network service to be given up on",
    );
    expect(network).toMatchObject({ pid: null, restarts: 6, lastExit: "exit code 1" });
    expect(network.message).toMatch(/^the network service crashed 7 times in a row \(last: exit code 1\); gave up restarting it — see .*\/logs\/network\.stderr\.log, then run jarvis down and jarvis up$/);

    // The backoff is visible: 0.5 s doubling per exit, and each exit came no sooner than that.
    expect(network.attempts.map((a) => a.exit)).toEqual(["killed by SIGKILL", ...Array<string>(6).fill("exit code 1")]);
    expect(network.attempts.map((a) => a.delayMs)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, null]);
    for (let i = 1; i < network.attempts.length; i++) {
      const gap = Date.parse(network.attempts[i]!.exitedAt) - Date.parse(network.attempts[i - 1]!.exitedAt);
      expect(gap).toBeGreaterThanOrEqual(network.attempts[i - 1]!.delayMs!);
    }

    // The text status names the failure; the session (not in a loop) still runs.
    const text = (await node.cli(["status"])).stdout;
    expect(text).toContain(`network: failed — ${network.message}`);
    expect(childPid(node, "session")).toBeTypeOf("number");

    // The log says it once, as an error, and the service's own output says why it failed.
    const errors = readFileSync(join(node.home, "logs", "daemon.log"), "utf8")
      .split("\n")
      .filter((line) => line.includes('"level":50'));
    expect(errors.filter((line) => line.includes(JSON.stringify(network.message)))).toHaveLength(1);
    expect(readFileSync(join(node.home, "logs", "network.stderr.log"), "utf8")).toContain("exists and is not a socket");
  }, 200_000);
});
