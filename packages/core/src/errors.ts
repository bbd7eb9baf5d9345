/**
 * Typed domain errors. Every error a person or a client can see carries a stable `code`
 * (kebab-case, never renamed) and a `kind` that the RPC edge maps to a gRPC status in one
 * place (@jarvis/rpc). Messages are one line, for people, and never contain keys or text.
 */
export type ErrorKind =
  | "invalid-argument"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "permission-denied"
  | "unauthenticated"
  | "resource-exhausted"
  | "unavailable"
  | "deadline-exceeded"
  | "aborted"
  | "internal";

export class JarvisError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends JarvisError {
  constructor(message: string, code = "invalid-argument") {
    super("invalid-argument", code, message);
  }
}

export class NotFoundError extends JarvisError {
  constructor(message: string, code = "not-found") {
    super("not-found", code, message);
  }
}

export class AlreadyExistsError extends JarvisError {
  constructor(message: string, code = "already-exists") {
    super("already-exists", code, message);
  }
}

export class FailedPreconditionError extends JarvisError {
  constructor(message: string, code = "failed-precondition") {
    super("failed-precondition", code, message);
  }
}

/** The identity is locked (or absent); only lifecycle calls work. */
export class LockedError extends FailedPreconditionError {
  constructor(message = "identity is locked: unlock it first (jarvis unlock)") {
    super(message, "locked");
  }
}

export class WrongPasswordError extends JarvisError {
  constructor(message = "wrong password") {
    super("permission-denied", "wrong-password", message);
  }
}

export class UnauthenticatedError extends JarvisError {
  constructor(message = "missing or invalid bearer token") {
    super("unauthenticated", "unauthenticated", message);
  }
}

export class ResourceExhaustedError extends JarvisError {
  /** When set, how long a caller should wait before trying again (sent as ErrorInfo metadata `retry_after_ms`). */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, code = "resource-exhausted", options: { retryAfterMs?: number } = {}) {
    super("resource-exhausted", code, message);
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class UnavailableError extends JarvisError {
  constructor(message: string, code = "unavailable", options?: { cause?: unknown }) {
    super("unavailable", code, message, options);
  }
}

export class TimeoutError extends JarvisError {
  constructor(message: string, code = "timeout") {
    super("deadline-exceeded", code, message);
  }
}

/** The store on disk cannot be read: corrupt, truncated or not ours. Never recreated over. */
export class CorruptStoreError extends JarvisError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("failed-precondition", "corrupt-store", message, options);
  }
}

export function isJarvisError(value: unknown): value is JarvisError {
  return value instanceof JarvisError;
}
