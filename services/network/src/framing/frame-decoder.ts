import { FrameError } from "./frame-error.js";

export { FrameError } from "./frame-error.js";
export type { FrameErrorCode } from "./frame-error.js";

/** A 2-byte length prefix cannot describe more, and Noise messages never exceed it. */
export const MAX_FRAME_LENGTH = 65535;
const HEADER_LENGTH = 2;

/** What one take() did: bytes consumed, and the frame if one was completed. */
export interface DecodeStep {
  consumed: number;
  frame?: Buffer;
}

export interface FrameDecoderOptions {
  /** Refuse frames longer than this (1 ≤ n ≤ 65535); defaults to 65535. */
  maxFrameLength?: number;
}

/**
 * Incremental parser for `u16 big-endian length ‖ body` frames arriving in
 * arbitrary TCP chunks.
 *
 * Memory stays bounded by one partial frame: a header is validated the moment
 * its second byte arrives, before any of the body is buffered, and the body
 * buffer is allocated at exactly the announced size. Once a bad header has
 * been seen the stream can no longer be trusted to be aligned, so the decoder
 * stays failed and rethrows for any later input.
 */
export class FrameDecoder {
  readonly #maxFrameLength: number;
  readonly #header = Buffer.alloc(HEADER_LENGTH);
  #headerFilled = 0;
  #body: Buffer | undefined;
  #bodyFilled = 0;
  #failure: FrameError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameLength ?? MAX_FRAME_LENGTH;
    if (!Number.isInteger(max) || max < 1 || max > MAX_FRAME_LENGTH) {
      throw new RangeError(`maxFrameLength must be an integer from 1 to ${MAX_FRAME_LENGTH}`);
    }
    this.#maxFrameLength = max;
  }

  /** Bytes held for the frame currently being assembled (header included). */
  get bufferedBytes(): number {
    return this.#headerFilled + this.#bodyFilled;
  }

  /** True between frames: nothing of the next frame has been read yet. */
  get atBoundary(): boolean {
    return this.#headerFilled === 0;
  }

  /** Returns every frame completed by this chunk, as fresh copies the caller owns. */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const step = this.take(chunk, offset);
      offset += step.consumed;
      if (step.frame) frames.push(step.frame);
    }
    return frames;
  }

  /**
   * Reads from `offset` up to the end of the frame in progress (or of the chunk, if it ends
   * first) and stops there, so a caller can decide between frames whether to go on — e.g. to
   * hold the rest while its consumer is paused. Each header byte is parsed exactly once.
   */
  take(chunk: Uint8Array, offset = 0): DecodeStep {
    if (this.#failure !== undefined) throw this.#failure;
    const start = offset;
    if (this.#body === undefined) {
      const taken = Math.min(HEADER_LENGTH - this.#headerFilled, chunk.length - offset);
      this.#header.set(chunk.subarray(offset, offset + taken), this.#headerFilled);
      this.#headerFilled += taken;
      offset += taken;
      if (this.#headerFilled < HEADER_LENGTH) return { consumed: offset - start };
      this.#body = Buffer.allocUnsafe(this.#checkedLength(this.#header.readUInt16BE(0)));
      this.#bodyFilled = 0;
    }
    const taken = Math.min(this.#body.length - this.#bodyFilled, chunk.length - offset);
    this.#body.set(chunk.subarray(offset, offset + taken), this.#bodyFilled);
    this.#bodyFilled += taken;
    offset += taken;
    if (this.#bodyFilled < this.#body.length) return { consumed: offset - start };
    const frame = this.#body;
    this.#body = undefined;
    this.#bodyFilled = 0;
    this.#headerFilled = 0;
    return { consumed: offset - start, frame };
  }

  #checkedLength(length: number): number {
    if (length === 0) this.#fail(new FrameError("frame-empty", "received a zero-length frame"));
    if (length > this.#maxFrameLength) {
      this.#fail(new FrameError("frame-too-large", `frame of ${length} bytes exceeds the limit of ${this.#maxFrameLength}`));
    }
    return length;
  }

  #fail(error: FrameError): never {
    this.#failure = error;
    this.#headerFilled = 0;
    this.#body = undefined;
    this.#bodyFilled = 0;
    throw error;
  }
}

/** Prefixes a body with its 2-byte big-endian length. Empty bodies are refused, as the decoder refuses them. */
export function encodeFrame(body: Uint8Array): Buffer {
  if (body.length === 0) throw new FrameError("frame-empty", "cannot encode an empty frame");
  if (body.length > MAX_FRAME_LENGTH) {
    throw new FrameError("frame-too-large", `frame of ${body.length} bytes exceeds the limit of ${MAX_FRAME_LENGTH}`);
  }
  const frame = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  frame.writeUInt16BE(body.length, 0);
  frame.set(body, HEADER_LENGTH);
  return frame;
}
