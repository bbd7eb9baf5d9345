import { constants, type ClientHttp2Stream } from "node:http2";
import { create, isMessage, type DescMessage, type DescMethodStreaming, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type StreamResponse } from "@connectrpc/connect";
import { validateResponse, validateTrailer } from "@connectrpc/connect/protocol-grpc";
import { decodeMessage, encodeMessage, type MessageCodecs } from "./message-codecs.js";
import {
  ENVELOPE_HEADER_BYTES,
  canceledBy,
  checkEncoding,
  closedWithoutResponse,
  connectErrorOfNode,
  deadlineExceeded,
  deadlineOf,
  envelope,
  envelopeLength,
  requestHeaders,
  webHeaders,
  type CallHeaders,
  type CallTarget,
} from "./grpc-wire.js";

/**
 * A server-streaming gRPC call (one request, messages until the status) straight on an HTTP/2
 * stream, for the same reason as unary-call.ts: connect's path runs every received message
 * through a chain of async generators (split, parse, sentinel race, delegation), which cost a
 * subscriber (the TUI, the bench's) more CPU per event than the event itself. Here a message
 * is decoded where its bytes arrive and handed to the waiting next(). Reading stays flow
 * controlled: past HIGH_WATER undelivered messages the HTTP/2 stream is paused, so a slow
 * reader holds the server back instead of buffering without bound.
 */
const HIGH_WATER = 16;

export async function callServerStream<I extends DescMessage, O extends DescMessage>(
  target: CallTarget,
  method: DescMethodStreaming<I, O>,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  header: CallHeaders,
  input: AsyncIterable<MessageInitShape<I>>,
): Promise<StreamResponse<I, O>> {
  const deadlineMs = deadlineOf(timeoutMs);
  const first = await input[Symbol.asyncIterator]().next();
  if (first.done) throw new ConnectError("protocol error: missing request message for server-streaming method", Code.InvalidArgument);
  const message = isMessage(first.value, method.input) ? first.value : create(method.input, first.value);
  const body = envelope(encodeMessage(method.input, target.codecs, message as MessageShape<I>));
  const call = new ServerStreamReader<O>(method.output, target.codecs, signal, deadlineMs);
  const path = `/${method.parent.typeName}/${method.name}`;
  target.sessionManager.request("POST", path, requestHeaders(target.baseHeaders, deadlineMs, header), {}).then(
    (stream) => call.attach(stream, () => target.sessionManager.notifyResponseByteRead(stream), (opened) => opened.end(body)),
    (error: unknown) => call.fail(connectErrorOfNode(error)),
  );
  const responseHeader = await call.header;
  return { stream: true, service: method.parent, method, header: responseHeader, trailer: call.trailer, message: call };
}

/** The response side of a streaming call: messages as they arrive, then the status. Also bidi-call.ts's. */
export class ServerStreamReader<O extends DescMessage> implements AsyncIterable<MessageShape<O>>, AsyncIterator<MessageShape<O>> {
  readonly header: Promise<Headers>;
  /** Filled when the trailers arrive; connect's client reads it after the last message. */
  readonly trailer = new Headers();
  #resolveHeader!: (header: Headers) => void;
  #rejectHeader!: (error: ConnectError) => void;
  #responseHeader: Headers | undefined;
  #stream: ClientHttp2Stream | undefined;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes the next message needs buffered: its envelope header, then the whole envelope. */
  #needed = ENVELOPE_HEADER_BYTES;
  #queue: MessageShape<O>[] = [];
  #waiter: { resolve: (result: IteratorResult<MessageShape<O>>) => void; reject: (error: ConnectError) => void } | undefined;
  #ended = false;
  #error: ConnectError | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onAbort = () => this.fail(canceledBy(this.signal));

  constructor(
    private readonly schema: O,
    private readonly codecs: MessageCodecs,
    private readonly signal: AbortSignal | undefined,
    deadlineMs: number | undefined,
  ) {
    this.header = new Promise((resolve, reject) => {
      this.#resolveHeader = resolve;
      this.#rejectHeader = reject;
    });
    // A failure before the caller awaits the header must not count as unhandled.
    this.header.catch(() => {});
    if (signal?.aborted) this.#onAbort();
    else signal?.addEventListener("abort", this.#onAbort);
    if (deadlineMs !== undefined && !this.#finished) this.#timer = setTimeout(() => this.fail(deadlineExceeded()), deadlineMs);
  }

  /** Whether the call has ended (status received, failed, or cancelled). */
  get finished(): boolean {
    return this.#finished;
  }

  get #finished(): boolean {
    return this.#ended || this.#error !== undefined;
  }

  /** `send` writes the request side once the handlers are in place. */
  attach(stream: ClientHttp2Stream, onBytes: () => void, send: (stream: ClientHttp2Stream) => void): void {
    this.#stream = stream;
    if (this.#finished) {
      stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    stream.on("response", (received) => {
      try {
        const header = webHeaders(received);
        const { headerError } = validateResponse(Number(received[":status"]), header);
        if (headerError) throw headerError; // a trailers-only answer: the call failed at once
        checkEncoding(header);
        this.#responseHeader = header;
        this.#resolveHeader(header);
      } catch (error) {
        this.fail(ConnectError.from(error));
      }
    });
    stream.on("trailers", (received) => webHeaders(received, this.trailer));
    stream.on("data", (chunk: Buffer) => {
      onBytes();
      this.#receive(chunk);
    });
    stream.on("error", (error) => this.fail(connectErrorOfNode(error)));
    stream.on("close", () => this.#onClose(stream.rstCode));
    send(stream);
  }

  #receive(chunk: Buffer): void {
    // Bytes are only joined once a whole message is here: a large message arriving in many
    // DATA frames is copied once, not once per frame.
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered < this.#needed) return;
    let bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
    try {
      for (;;) {
        const length = envelopeLength(bytes);
        this.#needed = length === undefined ? ENVELOPE_HEADER_BYTES : ENVELOPE_HEADER_BYTES + length;
        if (bytes.length < this.#needed) break;
        this.#deliver(decodeMessage(this.schema, this.codecs, bytes.subarray(ENVELOPE_HEADER_BYTES, this.#needed)) as MessageShape<O>);
        bytes = bytes.subarray(this.#needed);
        this.#needed = ENVELOPE_HEADER_BYTES;
      }
    } catch (error) {
      this.fail(ConnectError.from(error));
      return;
    }
    this.#chunks = bytes.length === 0 ? [] : [bytes];
    this.#buffered = bytes.length;
    if (this.#queue.length >= HIGH_WATER) this.#stream?.pause();
  }

  #deliver(message: MessageShape<O>): void {
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: message });
    } else this.#queue.push(message);
  }

  #onClose(rstCode: number): void {
    if (this.#finished) return;
    if (!this.#responseHeader) return this.fail(closedWithoutResponse(rstCode));
    if (this.#buffered > 0) return this.fail(new ConnectError("protocol error: premature end of stream", Code.InvalidArgument));
    try {
      validateTrailer(this.trailer, this.#responseHeader);
    } catch (error) {
      return this.fail(ConnectError.from(error));
    }
    this.#ended = true;
    this.#cleanup();
    this.#waiter?.resolve({ done: true, value: undefined });
    this.#waiter = undefined;
  }

  /** Ends the call with `error`: the server's stream is reset and the reader sees the error next. */
  fail(error: ConnectError): void {
    if (this.#finished) return;
    // Messages already received stay readable before the error, as the server sent them.
    this.#error = error;
    this.#cleanup();
    if (this.#stream && !this.#stream.closed) this.#stream.close(constants.NGHTTP2_CANCEL);
    this.#rejectHeader(error);
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }

  #cleanup(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.signal?.removeEventListener("abort", this.#onAbort);
  }

  next(): Promise<IteratorResult<MessageShape<O>>> {
    const message = this.#queue.shift();
    if (message !== undefined) {
      if (this.#queue.length < HIGH_WATER && this.#stream?.isPaused()) this.#stream.resume();
      return Promise.resolve({ done: false, value: message });
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    this.#stream?.resume();
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** A reader that stops early (break out of for-await) cancels the call. */
  return(): Promise<IteratorResult<MessageShape<O>>> {
    if (!this.#finished) this.fail(new ConnectError("the stream was closed by the reader", Code.Canceled));
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<MessageShape<O>> {
    return this;
  }
}
