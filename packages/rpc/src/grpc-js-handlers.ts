import type { MethodImplSpec } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { CallContext, type LiveCalls, type ServerSurfaceCall } from "./call-context.js";
import { UnavailableError } from "@jarvis/core";
import { toConnectError } from "./errors.js";
import type { RpcLogger } from "./interceptors.js";
import { drained } from "./drained.js";
import { deserializer, serializer, type MessageCodecs } from "./message-codecs.js";
import { grpcStatusOf, metadataOf } from "./status-details.js";

/** What every handler of one server shares. */
export interface HandlerEnv {
  live: LiveCalls;
  logger?: RpcLogger;
  /** Hand-written codecs for hot message types (message-codecs.ts). */
  codecs: MessageCodecs;
  /** ServerOptions.queuedResponses. */
  queuedResponses: Readonly<Record<string, number>>;
}

type AnyMessage = { $typeName: string };
type Duplex = grpc.ServerDuplexStream<AnyMessage, unknown>;

/** One grpc-js service definition and its implementation, from the registered methods. */
export function grpcServiceOf(specs: readonly MethodImplSpec[], env: HandlerEnv) {
  const definition: Record<string, grpc.MethodDefinition<AnyMessage, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const spec of specs) {
    const { method } = spec;
    definition[method.name] = {
      path: `/${method.parent.typeName}/${method.name}`,
      requestStream: spec.kind === "client_streaming" || spec.kind === "bidi_streaming",
      responseStream: spec.kind === "server_streaming" || spec.kind === "bidi_streaming",
      requestSerialize: serializer(method.input, env.codecs),
      requestDeserialize: deserializer(method.input, env.codecs),
      responseSerialize: serializer(method.output, env.codecs),
      responseDeserialize: deserializer(method.output, env.codecs),
    };
    implementation[method.name] = handlerOf(spec, env);
  }
  return { definition: definition as grpc.ServiceDefinition, implementation };
}

function handlerOf(spec: MethodImplSpec, env: HandlerEnv): grpc.UntypedHandleCall {
  const { method } = spec;
  const queued = env.queuedResponses[`${method.parent.typeName}/${method.name}`] ?? 0;
  // Calls reach a handler only once admitted: the token is checked on the metadata, before the
  // body is read (admissionInterceptor in bearer-token.ts).
  const open = (call: ServerSurfaceCall) => new CallContext(method, call, env.live);
  const fail = (error: unknown, ctx: CallContext) => {
    const status = grpcStatusOf(error, ctx.trailerIfSet);
    if (status.code === 13) env.logger?.error({ method: method.name, err: error }, "internal error in handler");
    return status;
  };
  switch (spec.kind) {
    case "unary":
      return (call: grpc.ServerUnaryCall<AnyMessage, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const ctx = open(call);
        respond(() => spec.impl(call.request, ctx), call, callback, ctx, fail);
      };
    case "client_streaming":
      return (call: grpc.ServerReadableStream<AnyMessage, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const ctx = open(call);
        respond(() => spec.impl(requestsOf(call), ctx), call, callback, ctx, fail);
      };
    case "server_streaming":
      return (call: grpc.ServerWritableStream<AnyMessage, unknown>) => {
        const ctx = open(call);
        void writeAll(call, () => spec.impl(call.request, ctx), ctx, fail, queued, env.live);
      };
    case "bidi_streaming":
      return (call: Duplex) => {
        const ctx = open(call);
        void writeAll(call, () => spec.impl(requestsOf(call), ctx), ctx, fail, queued, env.live);
      };
  }
}

/**
 * The request stream as the handler's AsyncIterable. Not the stream's default iterator: that
 * destroys the duplex when iteration ends, which would cut the responses still being written.
 * Reading pulls: grpc-js reads the next message off HTTP/2 only when asked, so a handler that
 * reads slowly holds its client back by flow control.
 */
function requestsOf(call: grpc.ServerReadableStream<AnyMessage, unknown> | Duplex): AsyncIterable<AnyMessage> {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) as AsyncIterator<AnyMessage> };
}

type Fail = (error: unknown, ctx: CallContext) => grpc.StatusObject;

/** A single response: sync handlers answer without a promise turn (the common, cheap case). */
function respond(run: () => unknown, call: ServerSurfaceCall, callback: grpc.sendUnaryData<unknown>, ctx: CallContext, fail: Fail): void {
  const ok = (response: unknown) => {
    const header = ctx.takeResponseHeader();
    if (header) call.sendMetadata(header);
    const trailer = ctx.trailerIfSet;
    callback(null, response, trailer && metadataOf(trailer));
  };
  const failed = (error: unknown) => callback(fail(error, ctx));
  let result: unknown;
  try {
    result = run();
  } catch (error) {
    failed(error);
    return;
  }
  if (result instanceof Promise) result.then(ok, failed);
  else ok(result);
}

/**
 * Writes the handler's responses, waiting for each write the stream cannot take at once to
 * drain: Subscribe and Link produce as fast as the client reads, never faster. A failure (thrown
 * by the handler mid-stream) becomes the call's status, mapped like a unary one.
 *
 * `queued` (ServerOptions.queuedResponses) lets that many small responses wait before the
 * handler does: grpc-js says "wait" at 16 queued messages and 'drain' comes only once every one
 * of them went out, one write at a time. SendMessages answers a group commit (up to 256) at
 * once; at 16 its answers trickled out, its window filled with stored-but-unanswered messages
 * (85% of it, measured) and each commit got only the ~12 requests the last drain let in.
 */
async function writeAll(
  call: grpc.ServerWritableStream<AnyMessage, unknown> | Duplex,
  run: () => AsyncIterable<unknown>,
  ctx: CallContext,
  fail: Fail,
  queued: number,
  live: LiveCalls,
): Promise<void> {
  // The server's close ends the call itself if the handler has not by the end of its grace.
  let ended = false;
  const end = () => {
    if (ended || call.destroyed) return;
    ended = true;
    call.emit("error", fail(new UnavailableError("the server is shutting down", "shutting-down"), ctx));
  };
  live.addStream(end);
  try {
    await writeResponses(call, run, ctx, queued, () => ended);
  } catch (error) {
    if (call.destroyed || ended) return;
    ended = true;
    // grpc-js's documented way to end a stream with a status: an 'error' carrying it.
    call.emit("error", fail(ctx.signal.aborted ? toConnectError(error) : error, ctx));
  } finally {
    live.deleteStream(end);
  }
}

async function writeResponses(
  call: grpc.ServerWritableStream<AnyMessage, unknown> | Duplex,
  run: () => AsyncIterable<unknown>,
  ctx: CallContext,
  queued: number,
  ended: () => boolean,
): Promise<void> {
  for await (const response of run()) {
    // Cancelled (no one reads) or ended by the server's close: break ends the handler's generator.
    if (call.destroyed || ended()) break;
    const header = ctx.takeResponseHeader();
    if (header) call.sendMetadata(header);
    if (!call.write(response) && call.writableLength >= queued) await drained(call);
  }
  if (call.destroyed || ended()) return;
  const header = ctx.takeResponseHeader();
  if (header) call.sendMetadata(header);
  const trailer = ctx.trailerIfSet;
  call.end(trailer && metadataOf(trailer));
}
