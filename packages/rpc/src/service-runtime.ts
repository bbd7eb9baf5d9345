import { readFileSync } from "node:fs";
import closeWithGrace from "close-with-grace";
import { profilePaths, type Logger } from "@jarvis/core";
import type { IpcAddress } from "./address.js";
import { flushLogger } from "./service-logger.js";
import { startShutdownWatchdog } from "./shutdown-watchdog.js";

/** A stopping service whose event loop does not turn for this long is killed (shutdown-watchdog.ts). */
const SHUTDOWN_STALL_MS = 1_000;

/** TCP IPC requires the profile's token; Unix sockets rely on the 0700 run directory. */
export function readIpcToken(home: string, ipc: IpcAddress): string | undefined {
  if (ipc.kind !== "tcp") return undefined;
  return readFileSync(profilePaths(home).token, "utf8").trim();
}

/**
 * Runs `stop` once, on the first SIGTERM/SIGINT/SIGHUP (or an uncaught error), logs "stopped"
 * and exits. A second signal, or `stop` taking longer than `graceMs`, exits at once with 1.
 * Every path flushes the log first, so the last lines (the reason we stopped) are on disk.
 * A stop whose event loop stalls for 1 s (SQLite is crash-safe, so even a slow close may be cut), or that outlives the grace by 1 s, is SIGKILLed.
 */
export function onShutdownSignal(stop: () => Promise<void>, logger: Logger, graceMs = 5_000): void {
  closeWithGrace(
    {
      delay: graceMs,
      logger: false,
      onSecondSignal: (signal: string) => {
        logger.error({ signal }, "second signal; exiting now");
        flushLogger(logger);
      },
      onSecondError: (error: unknown) => {
        logger.error({ err: error }, "second error while shutting down; exiting now");
        flushLogger(logger);
      },
      onTimeout: (delay: number) => {
        logger.error({ graceMs: delay }, "shutdown took too long; exiting");
        flushLogger(logger);
      },
    },
    async ({ signal, err }) => {
      // The grace timer above needs this thread's event loop; the watchdog does not.
      startShutdownWatchdog(SHUTDOWN_STALL_MS, graceMs + 1_000);
      if (err) logger.error({ err }, "uncaught error; shutting down");
      else logger.info({ signal: signal ?? "exit" }, "shutting down");
      try {
        await stop();
        logger.info({}, "stopped");
      } catch (error) {
        logger.error({ err: error }, "shutdown failed");
        throw error;
      } finally {
        flushLogger(logger);
      }
    },
  );
}
