import type { Socket } from "node:net";
import { FrameDecoder, encodeFrame } from "../framing/frame-decoder.js";
import { ChannelClosedError, ProtocolError } from "../errors.js";

/**
 * A TCP socket seen as a sequence of length-prefixed frames. During the handshake frames are
 * pulled one at a time (nextFrame); afterwards they are pushed to a consumer (onFrame).
 * A framing violation destroys the socket at once: nothing beyond one frame is ever buffered.
 *
 * In pull mode a frame is decoded only when someone waits for it. Bytes that arrive behind
 * the last handshake message (a fast initiator's first transport frames, often in the same
 * TCP segment) are held undecoded, with the socket paused, until the mode switches: they
 * must be read under the transport limit, not the handshake one.
 */
export class FramedSocket {
  readonly socket: Socket;
  #decoder: FrameDecoder;
  /** Undecoded bytes, always starting at a frame boundary; at most one chunk (the socket is paused). */
  #held: Buffer[] = [];
  /** Where the stream is relative to frame boundaries: header bytes seen, body bytes left. */
  #headerSeen = 0;
  #headerHigh = 0;
  #bodyLeft = 0;
  #waiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  #consumer: ((frame: Buffer) => void) | undefined;
  #closedError: Error | undefined;
  #onClose: ((error: Error) => void)[] = [];
  #corked = false;
  #coalesce = false;
  bytesReceived = 0;
  bytesSent = 0;

  constructor(socket: Socket, maxFrameLength: number) {
    this.socket = socket;
    this.#decoder = new FrameDecoder({ maxFrameLength });
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (error) => this.#close(error));
    socket.on("close", () => this.#close(new ChannelClosedError("connection closed by peer")));
  }

  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  /** Raises the frame size limit once the handshake is over (always at a frame boundary: see the class comment). */
  setMaxFrameLength(maxFrameLength: number): void {
    const buffered = this.#decoder.bufferedBytes;
    if (buffered > 0) throw new ProtocolError("frame data pending while switching modes");
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

  onClose(listener: (error: Error) => void): void {
    if (this.#closedError) listener(this.#closedError);
    else this.#onClose.push(listener);
  }

  /** Returns false when the kernel buffer is full; wait for drained() before writing more. */
  writeFrame(body: Uint8Array): boolean {
    const frame = encodeFrame(body);
    this.bytesSent += frame.length;
    // Frames written in the same turn of the event loop leave in one writev, not one
    // syscall each: under load most of the sending cost was per-write overhead. Only for
    // transport frames: a handshake reply must leave even if the connection fails right after.
    if (this.#coalesce && !this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    return this.socket.write(frame);
  }

  /** From now on, writes within one turn of the event loop are sent together. */
  coalesceWrites(): void {
    this.#coalesce = true;
  }

  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  destroy(error: Error): void {
    this.#close(error);
  }

  #onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesReceived += chunk.length;
    this.#input(chunk);
  }

  /** Decodes what was held back, now that a frame is wanted. */
  #release(): void {
    const held = this.#held.splice(0);
    if (held.length === 0) return;
    this.#input(Buffer.concat(held));
    if (this.#held.length === 0 && !this.closed) this.socket.resume();
  }

  /** Feeds the decoder frame by frame, holding the rest as soon as nobody wants the next frame. */
  #input(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.closed) {
      if (this.#atBoundary() && !this.#waiter && !this.#consumer) {
        this.#held.push(chunk.subarray(offset));
        this.socket.pause();
        return;
      }
      const end = this.#frameEnd(chunk, offset);
      let frames: Buffer[];
      try {
        frames = this.#decoder.push(chunk.subarray(offset, end));
      } catch (error) {
        this.#close(new ProtocolError(`bad frame: ${(error as Error).message}`, "frame-error", { cause: error }));
        return;
      }
      offset = end;
      for (const frame of frames) this.#deliver(frame);
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

  #atBoundary(): boolean {
    return this.#headerSeen === 0 && this.#bodyLeft === 0;
  }

  /** The offset just past the end of the frame in progress, or the chunk's end if it ends first. */
  #frameEnd(chunk: Buffer, offset: number): number {
    let i = offset;
    while (i < chunk.length) {
      if (this.#headerSeen < 2) {
        const byte = chunk[i++] as number;
        if (this.#headerSeen++ === 0) {
          this.#headerHigh = byte;
          continue;
        }
        this.#bodyLeft = (this.#headerHigh << 8) | byte;
      } else {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        i += take;
        this.#bodyLeft -= take;
      }
      if (this.#headerSeen === 2 && this.#bodyLeft === 0) {
        this.#headerSeen = 0;
        return i;
      }
    }
    return i;
  }

  #close(error: Error): void {
    if (this.#closedError) return;
    this.#closedError = error;
    this.#held.length = 0;
    this.socket.destroy();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
    for (const listener of this.#onClose.splice(0)) listener(error);
  }
}
