/**
 * Thrown by a frame handler whose write failed halfway inside an inbound batch's transaction:
 * what it wrote cannot be undone alone (it has no savepoint of its own), so the whole batch
 * must roll back, and nothing of it is acked. Never leaves the session process.
 */
export class BatchAbortError extends Error {
  constructor(cause: unknown) {
    super(`an inbound batch was abandoned: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "BatchAbortError";
  }
}
