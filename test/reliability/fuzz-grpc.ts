import * as http2 from "node:http2";
import { connect as netConnect } from "node:net";
import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type CallOptions, type Transport } from "@connectrpc/connect";
import { errorCodeOf } from "@jarvis/rpc";

/**
 * Calling any RPC of a service by its descriptor, with a bound, and judging the answer: the
 * service must answer every request with OK or a status that says what was wrong, never with
 * INTERNAL or UNKNOWN, and never hang. Also raw HTTP/2 requests with hand-made gRPC framing,
 * for what no client library would send.
 */
export interface Outcome {
  method: string;
  code: Code | "ok";
  reason: string | undefined;
  message: string;
}

/** Codes a service may answer without an ErrorInfo reason: connect's own request checks. */
const DOCUMENTED_WITHOUT_REASON = new Set<Code>([Code.InvalidArgument, Code.Unauthenticated, Code.ResourceExhausted, Code.Unimplemented, Code.OutOfRange]);

/** Why an outcome is a finding, or undefined when it is an acceptable answer. */
export function problemWith(outcome: Outcome, method: DescMethod): string | undefined {
  if (outcome.code === "ok") return undefined;
  if (outcome.code === Code.Internal || outcome.code === Code.Unknown) return `${Code[outcome.code]} (${outcome.message})`;
  // Streams are read for a bounded time; that bound is ours, not the server's answer.
  if (outcome.code === Code.DeadlineExceeded) return method.methodKind === "unary" ? "no answer within the bound" : undefined;
  if (outcome.reason) return undefined;
  return DOCUMENTED_WITHOUT_REASON.has(outcome.code) ? undefined : `${Code[outcome.code]} without an ErrorInfo reason (${outcome.message})`;
}

/**
 * The server library answers a request body it cannot decode (bad protobuf, a compressed flag with
 * no encoding) with INTERNAL before any handler runs, as grpc-go and grpc-java do: grpc-js (the
 * services' server since issue 18) says "Error deserializing request"; connect-node said the others.
 * Raw-body cases with exactly these messages are counted and reported, not failed: they are the
 * library's protocol check, not a handler's failure. Any other INTERNAL is a finding.
 */
export const UNDECODABLE_BODY = /^(parse binary: |received compressed envelope, but do not know how to decompress$|Error deserializing request$)/;

type AnyCall = (input: unknown, options?: CallOptions) => unknown;

/** Calls `method` with `requests` (one for unary and server streams; all for client and bidi streams). */
export async function callMethod(transport: Transport, service: DescService, method: DescMethod, requests: Message[], boundMs: number): Promise<Outcome> {
  const client = createClient(service, transport) as unknown as Record<string, AnyCall>;
  const call = client[method.localName] as AnyCall;
  const options: CallOptions = { timeoutMs: boundMs };
  try {
    switch (method.methodKind) {
      case "unary":
        await call(requests[0], options);
        break;
      case "server_streaming":
        await drain(call(requests[0], options) as AsyncIterable<unknown>, 5);
        break;
      case "client_streaming":
        await call(streamOf(requests), options);
        break;
      case "bidi_streaming":
        await drain(call(streamOf(requests), options) as AsyncIterable<unknown>, requests.length + 5);
        break;
    }
    return { method: method.name, code: "ok", reason: undefined, message: "" };
  } catch (error) {
    const e = ConnectError.from(error);
    return { method: method.name, code: e.code, reason: errorCodeOf(e), message: e.rawMessage.slice(0, 200) };
  }
}

async function* streamOf(requests: Message[]): AsyncIterable<Message> {
  for (const request of requests) yield request;
}

/** Reads up to `max` responses (a live stream may never end by itself). */
async function drain(stream: AsyncIterable<unknown>, max: number): Promise<void> {
  let seen = 0;
  for await (const _ of stream) if (++seen >= max) break;
}

/** The gRPC length-prefixed message framing: flag byte, u32 length, body. */
export function grpcFrame(body: Buffer, options: { flag?: number; length?: number } = {}): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = options.flag ?? 0;
  prefix.writeUInt32BE(options.length ?? body.length, 1);
  return Buffer.concat([prefix, body]);
}

/**
 * One raw gRPC request over HTTP/2 to a Unix socket; resolves with the grpc-status the server
 * sent (in trailers, or in headers for a trailers-only answer), or "none" if it sent none.
 */
export function rawGrpcCall(socketPath: string, path: string, body: Buffer, boundMs: number, extraHeaders: Record<string, string> = {}): Promise<{ status: number | "none"; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect("http://localhost", { createConnection: () => netConnect(socketPath) });
    let status: number | "none" = "none";
    let message = "";
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`raw call ${path} got no answer within ${boundMs} ms`));
    }, boundMs);
    const take = (headers: http2.IncomingHttpHeaders) => {
      if (headers["grpc-status"] !== undefined) status = Number(headers["grpc-status"]);
      if (headers["grpc-message"] !== undefined) message = decodeURIComponent(String(headers["grpc-message"]));
    };
    session.on("error", () => undefined);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...extraHeaders });
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("error", () => undefined);
    stream.resume();
    stream.on("close", () => {
      clearTimeout(timer);
      session.close();
      resolve({ status, message });
    });
    stream.end(body);
  });
}
