import { ResourceExhaustedError } from "@jarvis/core";

/**
 * The disk holding the store has no room left (SQLite's SQLITE_FULL): nothing was written,
 * what is stored is intact, and the same call succeeds once space returns — so a client gets
 * RESOURCE_EXHAUSTED with the stable reason `disk-full`, not an opaque internal error.
 */
export class DiskFullError extends ResourceExhaustedError {
  constructor(options?: { cause?: unknown }) {
    super("the disk holding the store is full: nothing was saved; free some space and try again", "disk-full");
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Turns SQLite's storage errors that a person can act on into typed errors; others pass through. */
export function typedStoreError(error: unknown): unknown {
  if ((error as { code?: unknown } | null)?.code === "SQLITE_FULL") return new DiskFullError({ cause: error });
  return error;
}
