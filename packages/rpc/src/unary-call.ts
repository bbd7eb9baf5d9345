import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { create, fromBinary, isMessage, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport, type UnaryResponse } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { validateResponse, validateTrailer } from "@connectrpc/connect/protocol-grpc";

/**
 * One unary gRPC call straight on an HTTP/2 stream of connect-node's session manager.
 *
 * WHY not connect's own unary path: for one request and one response it builds a chain of
 * async iterables (envelope split/join/parse), two linked AbortControllers, a deadline signal
 * and a "sentinel" that constructs a ConnectError (stack capture included) on every successful
 * call. On the bench's unary SendMessage that was most of the client's ~500 µs CPU per call.
 * Here a call is one promise, a few listeners and one buffer; the status, trailer and error
 * handling reuse connect's own gRPC validators, so callers see the same ConnectErrors
 * (codes, messages, metadata, details) as before.
 */
export interface UnaryCallTarget {
  sessionManager: Http2SessionManager;
  /** Headers sent on every call (content type, te, user agent, the bearer token). */
  baseHeaders: OutgoingHttpHeaders;
}

/** What a Transport's caller passes as call headers (HeadersInit in connect's types). */
type CallHeaders = Parameters<Transport["unary"]>[3];

const ENVELOPE_HEADER_BYTES = 5;
const COMPRESSED_FLAG = 0b01;

export function callUnary<I extends DescMessage, O extends DescMessage>(
  target: UnaryCallTarget,
  method: DescMethodUnary<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: CallHeaders,
  input: MessageInitShape<I>,
): Promise<UnaryResponse<I, O>> {
  const deadlineMs = timeoutMs === undefined || timeoutMs <= 0 ? undefined : timeoutMs;
  const headers = requestHeaders(target.baseHeaders, deadlineMs, header);
  const message = isMessage(input, method.input) ? input : create(method.input, input);
  const body = envelope(toBinary(method.input, message as MessageShape<I>));
  return new Promise<UnaryResponse<I, O>>((resolve, reject) => {
    let stream: ClientHttp2Stream | undefined;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (error: ConnectError | undefined, response?: UnaryResponse<I, O>) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (error) {
        // A stream we give up on is reset so the server stops working on it.
        if (stream && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
        reject(error);
      } else resolve(response!);
    };
    function onAbort() {
      settle(ConnectError.from(signal?.reason ?? abortError(), Code.Canceled));
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort);
    if (deadlineMs !== undefined) timer = setTimeout(() => settle(new ConnectError("the operation timed out", Code.DeadlineExceeded)), deadlineMs);

    target.sessionManager.request("POST", `/${method.parent.typeName}/${method.name}`, headers, {}).then(
      (opened) => {
        stream = opened;
        if (settled) {
          opened.close(constants.NGHTTP2_CANCEL);
          return;
        }
        readResponse(target.sessionManager, opened, method, (error, response) => settle(error, response));
        opened.end(body);
      },
      (error: unknown) => settle(connectErrorOfNode(error)),
    );
  });
}

function readResponse<I extends DescMessage, O extends DescMessage>(
  sessionManager: Http2SessionManager,
  stream: ClientHttp2Stream,
  method: DescMethodUnary<I, O>,
  done: (error: ConnectError | undefined, response?: UnaryResponse<I, O>) => void,
): void {
  let responseHeaders: IncomingHttpHeaders | undefined;
  let trailers: IncomingHttpHeaders | undefined;
  const chunks: Buffer[] = [];
  stream.on("response", (received) => (responseHeaders = received));
  stream.on("trailers", (received) => (trailers = received));
  stream.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    // Keeps the session manager's keepalive from pinging a connection that is plainly alive.
    sessionManager.notifyResponseByteRead(stream);
  });
  stream.on("error", (error) => done(connectErrorOfNode(error)));
  stream.on("close", () => {
    if (!responseHeaders) {
      done(new ConnectError(`http/2 stream closed without a response (code ${stream.rstCode})`, Code.Unavailable));
      return;
    }
    try {
      done(undefined, completeResponse(method, responseHeaders, trailers, chunks));
    } catch (error) {
      done(ConnectError.from(error));
    }
  });
}

/** Mirrors connect's gRPC unary response checks, in the same order, with the same errors. */
function completeResponse<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  nodeHeaders: IncomingHttpHeaders,
  nodeTrailers: IncomingHttpHeaders | undefined,
  chunks: Buffer[],
): UnaryResponse<I, O> {
  const header = webHeaders(nodeHeaders);
  const trailer = nodeTrailers ? webHeaders(nodeTrailers) : new Headers();
  const { headerError } = validateResponse(Number(nodeHeaders[":status"]), header);
  const encoding = header.get("grpc-encoding");
  // We never offer compression (no grpc-accept-encoding), so a compressed reply is a protocol error.
  if (encoding !== null && encoding.toLowerCase() !== "identity") throw new ConnectError(`unsupported response encoding "${encoding}"`, Code.Internal, header);
  const payload = singleEnvelope(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  validateTrailer(trailer, header);
  if (payload === undefined) {
    if (headerError) throw headerError;
    throw new ConnectError("protocol error: missing output message for unary method", trailer.has("grpc-status") ? Code.Unimplemented : Code.Unknown);
  }
  if (headerError) throw new ConnectError("protocol error: received output message for unary method with error status", Code.Unknown);
  const message = fromBinary(method.output, payload);
  return { stream: false, service: method.parent, method, header, message, trailer };
}

/** The one message of a unary response body, or undefined for an empty body. */
function singleEnvelope(body: Buffer): Uint8Array | undefined {
  if (body.length === 0) return undefined;
  if (body.length < ENVELOPE_HEADER_BYTES) throw new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
  if ((body[0]! & COMPRESSED_FLAG) !== 0) throw new ConnectError("protocol error: received compressed output without grpc-encoding", Code.Internal);
  const length = body.readUInt32BE(1);
  const end = ENVELOPE_HEADER_BYTES + length;
  if (body.length < end) throw new ConnectError("protocol error: promised more bytes than received", Code.InvalidArgument);
  if (body.length > end) throw new ConnectError("protocol error: received extra output message for unary method", Code.Unimplemented);
  return body.subarray(ENVELOPE_HEADER_BYTES, end);
}

function envelope(bytes: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + bytes.length);
  framed[0] = 0;
  framed.writeUInt32BE(bytes.length, 1);
  framed.set(bytes, ENVELOPE_HEADER_BYTES);
  return framed;
}

function requestHeaders(base: OutgoingHttpHeaders, deadlineMs: number | undefined, extra: CallHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...base };
  if (extra !== undefined) new Headers(extra).forEach((value, key) => (headers[key] = value));
  if (deadlineMs !== undefined) headers["grpc-timeout"] = `${deadlineMs}m`;
  return headers;
}

function webHeaders(node: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const key in node) {
    if (key.startsWith(":")) continue;
    const value = node[key];
    if (Array.isArray(value)) for (const item of value) result.append(key, item);
    else if (value !== undefined) result.append(key, value);
  }
  return result;
}

function abortError(): Error {
  const error = new Error("This operation was aborted");
  error.name = "AbortError";
  return error;
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
