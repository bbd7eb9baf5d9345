import type { ClientHttp2Stream } from "node:http2";
import { create, isMessage, type DescMessage, type DescMethodStreaming, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { StreamResponse } from "@connectrpc/connect";
import { connectErrorOfNode, deadlineOf, envelope, requestHeaders, type CallHeaders, type CallTarget } from "./grpc-wire.js";
import { drained } from "./drained.js";
import { encodeMessage } from "./message-codecs.js";
import { ServerStreamReader } from "./server-stream-call.js";

/**
 * A bidi-streaming gRPC call straight on an HTTP/2 stream (a streaming sender's SendMessages):
 * requests are written as the caller's iterable yields them, answers are read by the same
 * reader as server-stream-call.ts. connect's own bidi path runs both directions through chains
 * of async generators and protobuf-es's reflection, which cost a streaming client more CPU per
 * message than the session that stores it. Writing is flow controlled: when the HTTP/2 stream's
 * buffer is full the caller's iterable is not pulled until it drains.
 */
export async function callBidiStream<I extends DescMessage, O extends DescMessage>(
  target: CallTarget,
  method: DescMethodStreaming<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: CallHeaders,
  input: AsyncIterable<MessageInitShape<I>>,
): Promise<StreamResponse<I, O>> {
  const deadlineMs = deadlineOf(timeoutMs);
  const call = new ServerStreamReader<O>(method.output, target.codecs, signal, deadlineMs);
  const path = `/${method.parent.typeName}/${method.name}`;
  target.sessionManager.request("POST", path, requestHeaders(target.baseHeaders, deadlineMs, header), {}).then(
    (stream) => call.attach(stream, () => target.sessionManager.notifyResponseByteRead(stream), (opened) => {
      // The status ends the call even while the caller still has requests: our side is ended
      // too, so the HTTP/2 stream closes and the reader sees the end (as connect's client does).
      opened.on("trailers", () => opened.writableEnded || opened.end());
      void writeRequests(opened, method.input, target, input, call);
    }),
    (error: unknown) => call.fail(connectErrorOfNode(error)),
  );
  const responseHeader = await call.header;
  return { stream: true, service: method.parent, method, header: responseHeader, trailer: call.trailer, message: call };
}

async function writeRequests<I extends DescMessage>(
  stream: ClientHttp2Stream,
  schema: I,
  target: CallTarget,
  input: AsyncIterable<MessageInitShape<I>>,
  call: ServerStreamReader<DescMessage>,
): Promise<void> {
  const writable = () => !call.finished && !stream.writableEnded && !stream.closed && !stream.destroyed;
  try {
    for await (const value of input) {
      // The call is over (answered with a status, failed, cancelled): leaving the loop ends the caller's iterable.
      if (!writable()) return;
      const message = isMessage(value, schema) ? value : create(schema, value);
      if (!stream.write(envelope(encodeMessage(schema, target.codecs, message as MessageShape<I>)))) await drained(stream);
    }
    if (writable()) stream.end();
  } catch (error) {
    // The caller's iterable threw: the call fails with its error, as connect's does.
    call.fail(connectErrorOfNode(error));
  }
}
