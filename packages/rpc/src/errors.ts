import { Code, ConnectError } from "@connectrpc/connect";
import { JarvisError, type ErrorKind } from "@jarvis/core";

/**
 * The one place where domain errors become gRPC statuses. The stable domain code travels in
 * the `jarvis-error-code` trailer so clients can branch on it without parsing messages.
 */
const CODE_BY_KIND: Record<ErrorKind, Code> = {
  "invalid-argument": Code.InvalidArgument,
  "not-found": Code.NotFound,
  "already-exists": Code.AlreadyExists,
  "failed-precondition": Code.FailedPrecondition,
  "permission-denied": Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  "resource-exhausted": Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  "deadline-exceeded": Code.DeadlineExceeded,
  aborted: Code.Aborted,
  internal: Code.Internal,
};

export const ERROR_CODE_HEADER = "jarvis-error-code";

export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof JarvisError) {
    return new ConnectError(error.message, CODE_BY_KIND[error.kind], { [ERROR_CODE_HEADER]: error.code }, undefined, error);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/**
 * What a unary call failing with `error` would report, for APIs that report errors per item
 * inside a stream (SendMessages) instead of ending the call.
 */
export function statusOf(error: unknown): { grpcCode: Code; errorCode: string; message: string } {
  const status = toConnectError(error);
  return { grpcCode: status.code, errorCode: status.metadata.get(ERROR_CODE_HEADER) ?? "", message: status.rawMessage };
}

/** The stable domain code of an error received over RPC, if the server sent one. */
export function errorCodeOf(error: unknown): string | undefined {
  if (!(error instanceof ConnectError)) return undefined;
  return error.metadata.get(ERROR_CODE_HEADER) ?? undefined;
}
