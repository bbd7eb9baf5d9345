import type { Duplex } from "node:stream";
import { FrameDecoder, encodeFrame } from "../framing/frame-decoder.js";
import { ChannelClosedError, ProtocolError, socketError } from "../errors.js";

/**
 * A byte stream (a TCP socket, or any Duplex in tests) seen as a sequence of length-prefixed
 * frames. During the handshake frames are pulled one at a time (nextFrame); afterwards they are
 * pushed to a consumer (onFrame), which can pause and resume the flow (backpressure).
 * A framing violation destroys the stream at once: nothing beyond one frame is ever buffered.
 *
 * Frames are decoded only while someone wants them. Whenever nobody does — no nextFrame()
 * waiting, no consumer yet, or the consumer paused — the stream is paused at the next frame
 * boundary and the bytes behind it are held undecoded (at most the one chunk the stream had
 * already read). That also keeps a fast initiator's first transport frames, which often arrive
 * in the same TCP segment as the last handshake message, out of the handshake's frame limit.
 */
export class FramedSocket {
  readonly stream: Duplex;
  #decoder: FrameDecoder;
  /** Undecoded bytes, always starting at a frame boundary. */
  #held: Buffer[] = [];
  #waiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  #consumer: ((frame: Buffer) => void) | undefined;
  #paused = false;
  #closedError: Error | undefined;
  #onClose: ((error: Error) => void)[] = [];
  #corked = false;
  #coalesce = false;
  #unwrittenBytes = 0;
  bytesReceived = 0;
  bytesSent = 0;

  constructor(stream: Duplex, maxFrameLength: number) {
    this.stream = stream;
    this.#decoder = new FrameDecoder({ maxFrameLength });
    stream.on("data", (chunk: Buffer) => this.#onData(chunk));
    stream.on("error", (error) => this.#close(socketError(error)));
    stream.on("close", () => this.#close(new ChannelClosedError("connection closed by peer")));
  }

  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  /** Bytes handed to write() whose write callback has not fired yet. */
  get unwrittenBytes(): number {
    return this.#unwrittenBytes;
  }

  get readingPaused(): boolean {
    return this.#paused;
  }

  /** Raises the frame size limit once the handshake is over (always at a frame boundary: see the class comment). */
  setMaxFrameLength(maxFrameLength: number): void {
    if (!this.#decoder.atBoundary) throw new ProtocolError("frame data pending while switching modes");
    this.#decoder = new FrameDecoder({ maxFrameLength });
  }

  nextFrame(): Promise<Buffer> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const frame = new Promise<Buffer>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
    this.#release();
    return frame;
  }

  /** Switches to push mode; bytes held so far are decoded (under the current limit) first. */
  onFrame(consumer: (frame: Buffer) => void): void {
    this.#consumer = consumer;
    this.#release();
  }

  /** Stops delivering frames (from the next frame boundary) and stops reading the stream. */
  pauseReading(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.stream.pause();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#release();
  }

  onClose(listener: (error: Error) => void): void {
    if (this.#closedError) listener(this.#closedError);
    else this.#onClose.push(listener);
  }

  /**
   * Writes one frame. `onWritten` is called once: with no error when the stream has written the
   * frame's last byte (it has left this process), or with an error if the stream closed first.
   * Returns false when the stream's buffer is full; wait for drained() before writing more.
   */
  writeFrame(body: Uint8Array, onWritten?: (error?: Error) => void): boolean {
    const frame = encodeFrame(body);
    this.bytesSent += frame.length;
    this.#unwrittenBytes += frame.length;
    // Frames written in the same turn of the event loop leave in one writev, not one
    // syscall each: under load most of the sending cost was per-write overhead. Only for
    // transport frames: a handshake reply must leave even if the connection fails right after.
    if (this.#coalesce && !this.#corked) {
      this.#corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.stream.uncork();
      });
    }
    return this.stream.write(frame, (error?: Error | null) => {
      this.#unwrittenBytes -= frame.length;
      onWritten?.(error ? new ChannelClosedError("channel closed before the frame was written", "channel-closed", { cause: error }) : undefined);
    });
  }

  /** From now on, writes within one turn of the event loop are sent together. */
  coalesceWrites(): void {
    this.#coalesce = true;
  }

  drained(): Promise<void> {
    if (!this.stream.writableNeedDrain || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.stream.off("drain", done);
        this.stream.off("close", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("close", done);
    });
  }

  /** Half-closes: what was written still leaves, then the peer sees the end of the stream. */
  end(): void {
    if (!this.closed) this.stream.end();
  }

  /** Called when the peer half-closes its side. */
  onEnd(listener: () => void): void {
    this.stream.once("end", listener);
  }

  /** Resolves once the underlying stream has closed. */
  whenClosed(): Promise<void> {
    if (this.stream.closed) return Promise.resolve();
    return new Promise((resolve) => this.stream.once("close", () => resolve()));
  }

  destroy(error: Error): void {
    this.#close(error);
  }

  #onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesReceived += chunk.length;
    this.#input(chunk);
  }

  #wantsFrame(): boolean {
    return this.#waiter !== undefined || (this.#consumer !== undefined && !this.#paused);
  }

  /** Decodes what was held back, now that frames are wanted again; resumes reading when all is taken. */
  #release(): void {
    const held = this.#held.splice(0);
    if (held.length > 0) this.#input(held.length === 1 ? (held[0] as Buffer) : Buffer.concat(held));
    if (this.#held.length === 0 && !this.closed && this.#wantsFrame()) this.stream.resume();
  }

  /** Feeds the decoder frame by frame, holding the rest as soon as nobody wants the next frame. */
  #input(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.closed) {
      if (this.#decoder.atBoundary && !this.#wantsFrame()) {
        this.#held.push(chunk.subarray(offset));
        this.stream.pause();
        return;
      }
      let step;
      try {
        step = this.#decoder.take(chunk, offset);
      } catch (error) {
        this.#close(new ProtocolError(`bad frame: ${(error as Error).message}`, "frame-error", { cause: error }));
        return;
      }
      offset += step.consumed;
      if (step.frame) this.#deliver(step.frame);
    }
  }

  #deliver(frame: Buffer): void {
    if (this.closed) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve(frame);
    } else {
      this.#consumer?.(frame);
    }
  }

  #close(error: Error): void {
    if (this.#closedError) return;
    this.#closedError = error;
    this.#held.length = 0;
    this.stream.destroy();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
    for (const listener of this.#onClose.splice(0)) listener(error);
  }
}
