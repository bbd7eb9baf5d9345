import { join } from "node:path";
import { pino } from "pino";
import { ensurePrivateDir, profilePaths, type Logger } from "@jarvis/core";

/** Each service logger's file destination, so shutdown can flush it before the process exits. */
const destinations = new WeakMap<Logger, LogFile>();

interface LogFile {
  flushSync(): void;
  /** The last write failed (e.g. ENOSPC) and its bytes are still waiting. */
  failing: boolean;
}

/** Log bytes kept while the disk refuses them; beyond this, lines are dropped, not buffered. */
const MAX_UNWRITTEN_LOG_BYTES = 1024 * 1024;

/**
 * A service's file logger: JSON lines in <home>/logs/<service>.log, never stdout (which
 * belongs to whoever started us).
 *
 * Writes are synchronous. With pino's asynchronous destination a line written while another
 * write is in flight sits in a buffer: it is lost on a crash or kill -9, and a flushSync() at
 * exit writes it *before* the in-flight line (seen here: "stopped" logged ahead of "shutting
 * down"). Services log per connection and lifecycle event, not per message, so the cost of
 * synchronous writes is negligible, and the last lines before any exit are always on disk.
 */
export function createServiceLogger(home: string, service: string, level: string): Logger {
  const logsDir = profilePaths(home).logsDir;
  ensurePrivateDir(logsDir);
  const destination = pino.destination({ dest: join(logsDir, `${service}.log`), mkdir: true, sync: true, maxLength: MAX_UNWRITTEN_LOG_BYTES });
  // A log line that cannot be written (the disk is full) must not take the service down: the
  // destination reports it as an 'error' event, which unheard would throw from the log call.
  // The line stays buffered (bounded above) and goes out with the next write once space returns.
  const file: LogFile = { flushSync: () => destination.flushSync(), failing: false };
  destination.on("error", () => (file.failing = true));
  destination.on("write", () => (file.failing = false));
  const logger = pino(
    {
      level,
      base: { service, pid: process.pid },
      // Defence in depth: these never belong in logs even if a caller passes them.
      redact: { paths: ["text", "password", "privateKey", "*.text", "*.password", "*.privateKey"], remove: true },
    },
    destination,
  ) as unknown as Logger;
  destinations.set(logger, file);
  return logger;
}

/** Makes the log durable (fsync) before an exit; safe to call on any logger. */
export function flushLogger(logger: Logger): void {
  const file = destinations.get(logger);
  // sonic-boom's flushSync retries a failing write forever: on a full disk, exiting matters more.
  if (!file || file.failing) return;
  try {
    file.flushSync();
  } catch {
    // The file is not open (nothing was written) or is gone: nothing to save.
  }
}
