import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock, type Logger } from "@jarvis/core";
import { eventually } from "../../../test/helpers/cli.js";
import { HEALTHY_AFTER_MS, MAX_QUICK_RESTARTS, SupervisedChild } from "./supervised-child.js";

/** A fake service: exits with 3 as soon as the "die" file exists, runs until then. */
const SERVICE = `
import { existsSync } from "node:fs";
const check = () => { if (existsSync(process.env.DIE_FILE)) process.exit(3); };
check();
setInterval(check, 10);
`;

interface Record_ {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recordingLogger(records: Record_[]): Logger {
  const at = (level: string) => (obj: object, msg?: string) => records.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => logger };
  return logger;
}

describe("SupervisedChild", () => {
  const dir = mkdtempSync(join(tmpdir(), "jv-sup-"));
  const entry = join(dir, "service.mjs");
  const dieFile = join(dir, "die");
  writeFileSync(entry, SERVICE);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("restarts a crashing service after 0.5 s, 1 s, 2 s …, and from 0.5 s again after a healthy run", async () => {
    const clock = new FakeClock();
    const records: Record_[] = [];
    const child = new SupervisedChild({ name: "svc", entry, env: { ...process.env, DIE_FILE: dieFile }, logsDir: dir, log: recordingLogger(records), clock });
    const restarts = () => records.filter((r) => r.msg === "service exited; restarting");
    const waitForRestarts = (n: number) => eventually(async () => (restarts().length >= n ? true : undefined), 20_000, `${n} restarts`);
    try {
      writeFileSync(dieFile, "");
      child.start();
      await waitForRestarts(1);
      expect(restarts()[0]?.obj).toMatchObject({ code: 3, delay: 500 });

      clock.advance(499);
      expect(clock.pendingTimers).toBe(1);
      expect(child.pid).toBeUndefined();
      clock.advance(1);
      expect(clock.pendingTimers).toBe(0);
      expect(child.pid).toBeTypeOf("number");
      await waitForRestarts(2);
      expect(restarts()[1]?.obj.delay).toBe(1_000);

      clock.advance(1_000);
      await waitForRestarts(3);
      expect(restarts()[2]?.obj.delay).toBe(2_000);

      // This time it stays up past the healthy mark before crashing.
      rmSync(dieFile);
      clock.advance(2_000);
      clock.advance(HEALTHY_AFTER_MS);
      writeFileSync(dieFile, "");
      await waitForRestarts(4);
      expect(restarts()[3]?.obj.delay).toBe(500);
      expect(restarts()).toHaveLength(4);
    } finally {
      await child.stop();
    }
    // stop() cancels the pending restart: nothing comes back.
    expect(clock.pendingTimers).toBe(0);
    expect(child.pid).toBeUndefined();
  });

  it("gives up on a service that keeps crashing, with a clear message in its state and the log", async () => {
    writeFileSync(dieFile, "");
    const clock = new FakeClock();
    const records: Record_[] = [];
    const child = new SupervisedChild({ name: "loop", entry, env: { ...process.env, DIE_FILE: dieFile }, logsDir: dir, log: recordingLogger(records), clock });
    const restarts = () => records.filter((r) => r.msg === "service exited; restarting").length;
    try {
      child.start();
      for (let n = 1; n <= MAX_QUICK_RESTARTS; n++) {
        await eventually(async () => (restarts() >= n ? true : undefined), 20_000, `${n} restarts`);
        expect(child.snapshot().state).toBe("restarting");
        clock.advance(30_000);
      }
      const failed = await eventually(async () => (child.snapshot().state === "failed" ? child.snapshot() : undefined), 20_000, "the child to be given up on");
      expect(failed).toMatchObject({ name: "loop", pid: null, restarts: MAX_QUICK_RESTARTS, lastExit: "exit code 3" });
      expect(failed.message).toMatch(/^the loop service crashed 7 times in a row \(last: exit code 3\); gave up restarting it — see .*loop\.stderr\.log, then run jarvis down and jarvis up$/);
      expect(records.filter((r) => r.level === "error").map((r) => r.msg)).toEqual([failed.message]);
      // Nothing is scheduled any more: it stays down until someone acts.
      expect(clock.pendingTimers).toBe(0);
    } finally {
      await child.stop();
      rmSync(dieFile, { force: true });
    }
  });

  it("stops a running service with SIGTERM and does not restart it", async () => {
    rmSync(dieFile, { force: true });
    const clock = new FakeClock();
    const records: Record_[] = [];
    const child = new SupervisedChild({ name: "svc2", entry, env: { ...process.env, DIE_FILE: dieFile }, logsDir: dir, log: recordingLogger(records), clock });
    child.start();
    const pid = child.pid as number;
    await child.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(records.filter((r) => r.level === "warn")).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
