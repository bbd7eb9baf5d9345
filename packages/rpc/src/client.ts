import { connect as netConnect } from "node:net";
import type { OutgoingHttpHeaders } from "node:http2";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { IpcAddress } from "./address.js";
import { bearerTokenClientInterceptor } from "./interceptors.js";
import { callBidiStream } from "./bidi-call.js";
import { callServerStream } from "./server-stream-call.js";
import { callUnary } from "./unary-call.js";
import { codecsByType, type MessageCodec } from "./message-codecs.js";

/**
 * A gRPC (HTTP/2) transport to a local server over its Unix socket or loopback TCP.
 * Unary and server-streaming calls take the lean paths in unary-call.ts and
 * server-stream-call.ts; bidi calls take bidi-call.ts's with `leanBidi`, connect-node's gRPC
 * transport otherwise, as do client streams. All share one HTTP/2 connection (one session
 * manager: connect, keepalive, reconnect). `codecs` (message-codecs.ts) replace protobuf-es
 * for the hot message types on the lean paths.
 *
 * `leanBidi` is for the session's clients (SendMessages) and for the session's Link to its
 * network; client-restart.test.ts puts it through kill -9, a server that is down, and a
 * graceful close, as the unary and server-stream paths.
 */
export function createIpcTransport(
  address: IpcAddress,
  options: { token?: string; codecs?: readonly MessageCodec[]; leanBidi?: boolean } = {},
): Transport {
  const baseUrl = address.kind === "unix" ? "http://localhost" : `http://${address.host}:${address.port}`;
  const nodeOptions = address.kind === "unix" ? { createConnection: () => netConnect(address.path) } : {};
  const sessionManager = new Http2SessionManager(baseUrl, {}, nodeOptions);
  const interceptors: Interceptor[] = [];
  if (options.token) interceptors.push(bearerTokenClientInterceptor(options.token));
  const streaming = createGrpcTransport({ baseUrl, interceptors, sessionManager });
  const baseHeaders: OutgoingHttpHeaders = { "content-type": "application/grpc+proto", "user-agent": USER_AGENT, te: "trailers" };
  if (options.token) baseHeaders.authorization = `Bearer ${options.token}`;
  const callTarget = { sessionManager, baseHeaders, codecs: codecsByType(options.codecs) };
  return {
    unary: (method, signal, timeoutMs, header, input) => callUnary(callTarget, method, signal, timeoutMs, header, input),
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      method.methodKind === "server_streaming"
        ? callServerStream(callTarget, method, signal, timeoutMs, header, input)
        : method.methodKind === "bidi_streaming" && options.leanBidi
          ? callBidiStream(callTarget, method, signal, timeoutMs, header, input)
          : streaming.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

// What connect-es sends; kept so server logs read the same whichever path made the call.
const USER_AGENT = "connect-es/2.1.2";
