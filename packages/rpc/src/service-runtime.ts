import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { ensurePrivateDir, profilePaths, type Logger } from "@jarvis/core";
import type { IpcAddress } from "./address.js";

/**
 * What every service process needs besides its routes: a file logger (never stdout, which
 * belongs to whoever started us), the IPC token in TCP mode, and signal-driven shutdown.
 */
export function createServiceLogger(home: string, service: string, level: string): Logger {
  const logsDir = profilePaths(home).logsDir;
  ensurePrivateDir(logsDir);
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      // Defence in depth: these never belong in logs even if a caller passes them.
      redact: { paths: ["text", "password", "privateKey", "*.text", "*.password", "*.privateKey"], remove: true },
    },
    pino.destination({ dest: join(logsDir, `${service}.log`), mkdir: true, sync: false }),
  ) as unknown as Logger;
}

/** TCP IPC requires the profile's token; Unix sockets rely on the 0700 run directory. */
export function readIpcToken(home: string, ipc: IpcAddress): string | undefined {
  if (ipc.kind !== "tcp") return undefined;
  return readFileSync(profilePaths(home).token, "utf8").trim();
}

/**
 * Runs `stop` on the first SIGTERM/SIGINT, then exits. A second signal, or `stop` taking longer
 * than `graceMs`, exits at once.
 */
export function onShutdownSignal(stop: () => Promise<void>, logger: Logger, graceMs = 5_000): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({}, "shutdown took too long; exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}
