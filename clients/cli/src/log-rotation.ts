import { copyFileSync, existsSync, readdirSync, renameSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";

/** Each log file is kept under this size; with KEEP older copies, disk use per file is bounded. */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;
export const KEEP = 3;

/**
 * Size-based rotation of every log in the profile's logs/ directory, done by the supervisor
 * for all its processes ("copy, then truncate"): the services write with O_APPEND through
 * descriptors they keep open, so renaming the file would leave them writing to the old one;
 * truncating it in place makes their next write land at the start of the now-empty file.
 * Lines written between the copy and the truncate (microseconds) can be lost — the usual
 * price of copytruncate, preferred here to teaching every service to reopen its files.
 */
export function rotateLogs(logsDir: string, maxBytes = DEFAULT_MAX_LOG_BYTES): string[] {
  const rotated: string[] = [];
  let names: string[];
  try {
    names = readdirSync(logsDir);
  } catch {
    return rotated;
  }
  for (const name of names.filter((n) => n.endsWith(".log"))) {
    const file = join(logsDir, name);
    try {
      if (statSync(file).size <= maxBytes) continue;
      for (let i = KEEP - 1; i >= 1; i--) {
        if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      }
      copyFileSync(file, `${file}.1`);
      truncateSync(file, 0);
      rotated.push(name);
    } catch {
      // a file that vanished or cannot be read is not worth stopping the node for
    }
  }
  return rotated;
}
