import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const RPC = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/**
 * A minimal service: a file logger and onShutdownSignal, as services' main.ts use them. It logs
 * a burst, says "ready" on stdout, and logs another burst at the end of its stop.
 */
const SERVICE = `
import { pbkdf2 } from "node:crypto";
import { createServiceLogger, onShutdownSignal } from ${JSON.stringify(RPC)};
const logger = createServiceLogger(process.env.HOME_DIR, "svc", "info");
onShutdownSignal(async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  // Busy libuv threads, as on a loaded machine: an asynchronous log write would queue behind them.
  for (let i = 0; i < 4; i++) pbkdf2("x", "y", 200000, 32, "sha256", () => {});
  // Still logging when stop returns: the last lines are the ones a buffered log loses.
  for (let i = 0; i < 2000; i++) logger.info({ i }, "closing");
}, logger);
for (let i = 0; i < 2000; i++) logger.info({ i }, "busy");
setInterval(() => {}, 1000);
process.stdout.write("ready\\n");
`;

describe("onShutdownSignal", () => {
  const dir = mkdtempSync(join(tmpdir(), "jv-shut-"));
  const script = join(dir, "service.mjs");
  writeFileSync(script, SERVICE);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`on ${signal} stops, exits 0, and the log file ends with "stopped"`, async () => {
      const home = mkdtempSync(join(dir, "home-"));
      const child = spawn(process.execPath, [script], { env: { ...process.env, HOME_DIR: home }, stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill(signal);
      expect(await exited).toBe(0);
      const lines = readFileSync(join(home, "logs", "svc.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: string; signal?: string; i?: number });
      // Every line, in the order logged.
      const expected = [
        ...Array.from({ length: 2000 }, (_, i) => `busy ${i}`),
        `shutting down ${signal}`,
        ...Array.from({ length: 2000 }, (_, i) => `closing ${i}`),
        "stopped",
      ];
      expect(lines.map((l) => [l.msg, l.i ?? l.signal].filter((part) => part !== undefined).join(" "))).toEqual(expected);
    });
  }
});
