import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import type { MessageCodecs } from "./message-codecs.js";

// The gRPC-over-HTTP/2 pieces the client's own call paths (unary-call.ts, server-stream-call.ts)
// share: the 5-byte message envelope, headers both ways, and node errors as ConnectErrors.

/** Where the lean call paths open their streams, and what every call sends. */
export interface CallTarget {
  sessionManager: Http2SessionManager;
  /** Headers sent on every call (content type, te, user agent, the bearer token). */
  baseHeaders: OutgoingHttpHeaders;
  /** Hand-written codecs for hot message types (message-codecs.ts); protobuf-es for the rest. */
  codecs: MessageCodecs;
}

/** What a Transport's caller passes as call headers (HeadersInit in connect's types). */
export type CallHeaders = Parameters<Transport["unary"]>[3];

export const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b01;

/** The one message of a unary response body, or undefined for an empty body. */
export function singleEnvelope(body: Buffer): Uint8Array | undefined {
  if (body.length === 0) return undefined;
  const length = envelopeLength(body);
  if (length === undefined) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  const end = ENVELOPE_HEADER_BYTES + length;
  if (body.length < end) throw new ConnectError("protocol error: promised more bytes than received", Code.InvalidArgument);
  if (body.length > end) throw new ConnectError("protocol error: received extra output message for unary method", Code.Unimplemented);
  return body.subarray(ENVELOPE_HEADER_BYTES, end);
}

/** The payload length of the envelope at the start of `bytes`, or undefined while its header is incomplete. */
export function envelopeLength(bytes: Buffer): number | undefined {
  if (bytes.length < ENVELOPE_HEADER_BYTES) return undefined;
  // We never offer compression (no grpc-accept-encoding), so a compressed message is a protocol error.
  if ((bytes[0]! & COMPRESSED_FLAG) !== 0) throw new ConnectError("protocol error: received compressed output without grpc-encoding", Code.Internal);
  return bytes.readUInt32BE(1);
}

export function envelope(bytes: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + bytes.length);
  framed[0] = 0;
  framed.writeUInt32BE(bytes.length, 1);
  framed.set(bytes, ENVELOPE_HEADER_BYTES);
  return framed;
}

export function requestHeaders(base: OutgoingHttpHeaders, deadlineMs: number | undefined, extra: CallHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...base };
  if (extra !== undefined) new Headers(extra).forEach((value, key) => (headers[key] = value));
  if (deadlineMs !== undefined) headers["grpc-timeout"] = `${deadlineMs}m`;
  return headers;
}

/** connect's reading of a Transport's timeoutMs: absent or not positive means no deadline. */
export function deadlineOf(timeoutMs: number | undefined): number | undefined {
  return timeoutMs === undefined || timeoutMs <= 0 ? undefined : timeoutMs;
}

export function webHeaders(node: IncomingHttpHeaders, into: Headers = new Headers()): Headers {
  for (const key in node) {
    if (key.startsWith(":")) continue;
    const value = node[key];
    if (Array.isArray(value)) for (const item of value) into.append(key, item);
    else if (value !== undefined) into.append(key, value);
  }
  return into;
}

/** Rejects a response in a compression we never asked for. */
export function checkEncoding(header: Headers): void {
  const encoding = header.get("grpc-encoding");
  if (encoding !== null && encoding.toLowerCase() !== "identity") throw new ConnectError(`unsupported response encoding "${encoding}"`, Code.Internal, header);
}

/** The error a call ends with when its signal aborts (connect's reading of an abort reason). */
export function canceledBy(signal: AbortSignal | undefined): ConnectError {
  if (signal?.reason !== undefined) return ConnectError.from(signal.reason, Code.Canceled);
  const error = new Error("This operation was aborted");
  error.name = "AbortError";
  return ConnectError.from(error, Code.Canceled);
}

export function deadlineExceeded(): ConnectError {
  return new ConnectError("the operation timed out", Code.DeadlineExceeded);
}

/**
 * Node's socket and stream errors as ConnectErrors, with the codes connect-node gives them:
 * a peer that cannot be reached is UNAVAILABLE, a stream torn down under us is ABORTED.
 */
export function connectErrorOfNode(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  const codes = nodeErrorCodes(reason);
  let code = Code.Internal;
  if (codes.some((c) => c === "ERR_STREAM_WRITE_AFTER_END" || c === "ERR_STREAM_DESTROYED" || c === "ERR_HTTP2_INVALID_STREAM" || c === "ECONNRESET")) code = Code.Aborted;
  else if (codes.some((c) => c === "ETIMEDOUT" || c === "ENOTFOUND" || c === "EAI_AGAIN" || c === "ECONNREFUSED")) code = Code.Unavailable;
  const error = ConnectError.from(reason, code);
  if (error !== reason) error.cause = reason;
  return error;
}

function nodeErrorCodes(reason: unknown): string[] {
  const codes: string[] = [];
  for (let current = reason; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

export function closedWithoutResponse(rstCode: number): ConnectError {
  return new ConnectError(`http/2 stream closed without a response (code ${rstCode})`, Code.Unavailable);
}
