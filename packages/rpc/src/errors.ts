import { Code, ConnectError } from "@connectrpc/connect";
import { JarvisError, ResourceExhaustedError, type ErrorKind } from "@jarvis/core";
import { ErrorInfoSchema } from "@jarvis/proto/google/rpc/error_details";

/**
 * The one place where domain errors become gRPC statuses. The stable domain code is part of the
 * contract as a `google.rpc.ErrorInfo` status detail (reason = the code, domain = "jarvis"),
 * which any gRPC library can decode from `grpc-status-details-bin`; it also travels in the older
 * `jarvis-error-code` header, kept for clients written before the detail existed.
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
/** ErrorInfo.domain of every Jarvis error. */
export const ERROR_DOMAIN = "jarvis";

/**
 * The status message travels in an HTTP/2 trailer (grpc-message). A message that quotes a huge
 * input (an unknown contact reference of 70 KB, say) overflowed the header block: the stream
 * died with NGHTTP2_FRAME_SIZE_ERROR, the client saw INTERNAL, and the connection's next call
 * was refused. Messages are cut to this many code points instead.
 */
export const MAX_STATUS_MESSAGE_CHARS = 1_024;

function boundedMessage(message: string): string {
  if (message.length <= MAX_STATUS_MESSAGE_CHARS) return message;
  // By code points, so a cut never leaves half a surrogate pair behind.
  return Array.from(message).slice(0, MAX_STATUS_MESSAGE_CHARS).join("") + "…";
}

export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof JarvisError) {
    return new ConnectError(boundedMessage(error.message), CODE_BY_KIND[error.kind], { [ERROR_CODE_HEADER]: error.code }, [errorInfo(error.code, retryHint(error))], error);
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

function errorInfo(code: string, metadata: Record<string, string>) {
  return { desc: ErrorInfoSchema, value: { reason: code, domain: ERROR_DOMAIN, metadata } };
}

/** A busy server's hint, as ErrorInfo metadata `retry_after_ms` (milliseconds, decimal). */
function retryHint(error: JarvisError): Record<string, string> {
  return error instanceof ResourceExhaustedError && error.retryAfterMs !== undefined ? { retry_after_ms: String(error.retryAfterMs) } : {};
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
  const info = error.findDetails(ErrorInfoSchema).find((detail) => detail.domain === ERROR_DOMAIN);
  return info?.reason ?? error.metadata.get(ERROR_CODE_HEADER) ?? undefined;
}
