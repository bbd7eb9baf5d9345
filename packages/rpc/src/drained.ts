import type { Writable } from "node:stream";

/**
 * Resolves when a stream whose write() returned false has room again, or has closed (a write
 * loop then finds it closed and stops): the one wait both directions of a gRPC stream use.
 */
export function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}
