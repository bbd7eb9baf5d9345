import { existsSync } from "node:fs";

/**
 * libfaketime (Debian package `faketime`) shifts the wall clock of the processes it is preloaded
 * into — `jarvis up` and so the supervisor and both services, which inherit the environment.
 * Only the wall clock: a machine whose date is wrong still has a steady monotonic clock, and a
 * monotonic clock hours before boot would be a different (impossible) fault.
 */
const LIBRARY_CANDIDATES = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/faketime/libfaketimeMT.so.1"];

export const faketimeLibrary = LIBRARY_CANDIDATES.find((path) => existsSync(path));

/** Why a skewed clock cannot be made here, or undefined when it can. */
export function faketimeUnavailable(): string | undefined {
  if (process.platform !== "linux") return `libfaketime needs Linux (this is ${process.platform})`;
  return faketimeLibrary ? undefined : "libfaketime is not installed (apt-get install faketime)";
}

/** The environment that runs a process with its wall clock `offset` off (libfaketime syntax, e.g. "-6h"). */
export function skewedClockEnv(offset: string): Record<string, string> {
  if (!faketimeLibrary) throw new Error("libfaketime is not installed");
  const preload = process.env.LD_PRELOAD ? `${faketimeLibrary}:${process.env.LD_PRELOAD}` : faketimeLibrary;
  return { LD_PRELOAD: preload, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}
