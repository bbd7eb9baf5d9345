import type { Socket } from "node:net";
import { FrameDecoder, encodeFrame } from "../framing/frame-decoder.js";
import { ChannelClosedError, ProtocolError } from "../errors.js";

/**
 * A TCP socket seen as a sequence of length-prefixed frames. During the handshake frames are
 * pulled one at a time (nextFrame); afterwards they are pushed to a consumer (onFrame).
 * A framing violation destroys the socket at once: nothing beyond one frame is ever buffered.
 */
export class FramedSocket {
  readonly socket: Socket;
  #decoder: FrameDecoder;
  #queue: Buffer[] = [];
  #waiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  #consumer: ((frame: Buffer) => void) | undefined;
  #closedError: Error | undefined;
  #onClose: ((error: Error) => void)[] = [];
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

  /** Raises the frame size limit once the handshake is over. */
  setMaxFrameLength(maxFrameLength: number): void {
    const buffered = this.#decoder.bufferedBytes;
    if (buffered > 0) throw new ProtocolError("frame data pending while switching modes");
    this.#decoder = new FrameDecoder({ maxFrameLength });
  }

  nextFrame(): Promise<Buffer> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#closedError) return Promise.reject(this.#closedError);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Switches to push mode; frames already queued are delivered first. */
  onFrame(consumer: (frame: Buffer) => void): void {
    this.#consumer = consumer;
    while (this.#consumer === consumer && this.#queue.length > 0 && !this.closed) consumer(this.#queue.shift() as Buffer);
  }

  onClose(listener: (error: Error) => void): void {
    if (this.#closedError) listener(this.#closedError);
    else this.#onClose.push(listener);
  }

  /** Returns false when the kernel buffer is full; wait for drained() before writing more. */
  writeFrame(body: Uint8Array): boolean {
    const frame = encodeFrame(body);
    this.bytesSent += frame.length;
    return this.socket.write(frame);
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
    let frames: Buffer[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.#close(new ProtocolError(`bad frame: ${(error as Error).message}`, "frame-error", { cause: error }));
      return;
    }
    for (const frame of frames) {
      if (this.closed) return;
      if (this.#waiter) {
        const waiter = this.#waiter;
        this.#waiter = undefined;
        waiter.resolve(frame);
      } else if (this.#consumer) {
        this.#consumer(frame);
      } else {
        this.#queue.push(frame);
      }
    }
  }

  #close(error: Error): void {
    if (this.#closedError) return;
    this.#closedError = error;
    this.#queue.length = 0;
    this.socket.destroy();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(error);
    for (const listener of this.#onClose.splice(0)) listener(error);
  }
}
