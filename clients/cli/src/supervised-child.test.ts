import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock, type Logger } from "@jarvis/core";
import { eventually } from "../../../test/helpers/cli.js";
import { HEALTHY_AFTER_MS, MAX_QUICK_RESTARTS, SupervisedChild } from "./supervised-child.js";
import { DEFAULT_HEALTH_POLICY, type HealthProbe } from "./health-watch.js";

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

  it("is running only once its health answers, and is killed and restarted like a crash when its health goes silent", async () => {
    rmSync(dieFile, { force: true });
    const clock = new FakeClock();
    const records: Record_[] = [];
    // The process is real; what its health says is played by the test.
    let answering = false;
    const probe: HealthProbe = (signal) =>
      answering ? Promise.resolve() : new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("timeout"))));
    const child = new SupervisedChild({ name: "hang", entry, env: { ...process.env, DIE_FILE: dieFile }, logsDir: dir, log: recordingLogger(records), clock, health: { probe } });
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
    const { intervalMs, timeoutMs, maxFailures } = DEFAULT_HEALTH_POLICY;
    try {
      child.start();
      const first = child.pid as number;
      expect(child.snapshot()).toMatchObject({ state: "starting", health: "silent" });
      // The check in flight was silent: it times out, and the next one (100 ms later) answers.
      answering = true;
      clock.advance(timeoutMs);
      await settle();
      expect(child.snapshot().state).toBe("starting");
      clock.advance(100);
      await settle();
      expect(child.snapshot()).toMatchObject({ state: "running", health: "answering", pid: first });

      // It stops answering (as a SIGSTOPped or deadlocked process would): maxFailures checks.
      answering = false;
      for (let n = 0; n < maxFailures; n++) {
        clock.advance(intervalMs);
        await settle();
        clock.advance(timeoutMs);
        await settle();
      }
      const killed = await eventually(async () => (child.snapshot().state === "restarting" ? child.snapshot() : undefined), 20_000, "the hung child to be killed");
      expect(() => process.kill(first, 0)).toThrow();
      expect(killed.lastExit).toBe(`hung: it stopped answering its health check (${maxFailures} checks in a row, ${timeoutMs / 1000} s each); killed`);
      expect(killed.restarts).toBe(1);
      expect(records.find((r) => r.msg === "service exited; restarting")?.obj).toMatchObject({ signal: "SIGKILL", delay: 500 });

      // Restarted after the backoff, and running again once its health answers.
      answering = true;
      clock.advance(500);
      expect(child.snapshot().state).toBe("starting");
      expect(child.pid).not.toBe(first);
      await settle();
      expect(child.snapshot()).toMatchObject({ state: "running", health: "answering" });
    } finally {
      await child.stop();
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it("counts hangs toward the crash-loop limit", async () => {
    rmSync(dieFile, { force: true });
    const clock = new FakeClock();
    const records: Record_[] = [];
    const silent: HealthProbe = (signal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("timeout"))));
    // Short health deadlines, so each life lasts ~1 s of fake time: far from the 60 s after
    // which an exit no longer counts as part of a crash loop.
    const policy = { intervalMs: 100, timeoutMs: 200, maxFailures: 3, startTimeoutMs: 1_000 };
    const child = new SupervisedChild({ name: "mute", entry, env: { ...process.env, DIE_FILE: dieFile }, logsDir: dir, log: recordingLogger(records), clock, health: { probe: silent, policy } });
    const count = (msg: string) => records.filter((r) => r.msg === msg);
    // One timer at a time, letting each check's outcome run before the next step.
    const stepUntil = async (done: () => boolean) => {
      for (let i = 0; i < 100 && !done(); i++) {
        clock.advance(100);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    try {
      child.start();
      for (let n = 1; n <= MAX_QUICK_RESTARTS + 1; n++) {
        // It never answers: hung once startTimeoutMs has passed, and killed.
        await stepUntil(() => count("service hung; killing it").length >= n);
        expect(count("service hung; killing it")).toHaveLength(n);
        if (n > MAX_QUICK_RESTARTS) break;
        // Its exit (a real one) goes through the crash path: restarted after the backoff.
        const exits = await eventually(async () => (count("service exited; restarting").length >= n ? count("service exited; restarting") : undefined), 20_000, `${n} restarts`);
        clock.advance(exits[n - 1]?.obj.delay as number);
        expect(child.snapshot().state).toBe("starting");
      }
      const failed = await eventually(async () => (child.snapshot().state === "failed" ? child.snapshot() : undefined), 20_000, "the child to be given up on");
      expect(failed.message).toMatch(/^the mute service crashed 7 times in a row \(last: hung: it did not answer its health check within 1 s of starting; killed\); gave up/);
      expect(failed.attempts.map((a) => a.delayMs)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, null]);
      expect(clock.pendingTimers).toBe(0);
    } finally {
      await child.stop();
    }
  });
});
