import { FrameError } from "./frame-error.js";
import { MAX_FRAME_LENGTH } from "./frame-decoder.js";

// Each chunk travels as one Noise transport message, which is at most one
// frame long and carries a 16-byte AEAD tag; one more byte is the flag.
const AEAD_TAG_LENGTH = 16;
const FLAG_LENGTH = 1;
const FLAG_FINAL = 0x00;
const FLAG_MORE = 0x01;

/** Largest data part of one chunk: 65535 - 16 - 1 = 65518. */
export const MAX_CHUNK_DATA: number = MAX_FRAME_LENGTH - AEAD_TAG_LENGTH - FLAG_LENGTH;

/**
 * Splits an application payload into chunk plaintexts: `flag ‖ data`, where
 * every chunk but the last has flag 0x01 and the last has 0x00. An empty
 * payload is a single final chunk with no data.
 */
export function splitPayload(payload: Uint8Array, maxChunkData: number = MAX_CHUNK_DATA): Buffer[] {
  if (!Number.isInteger(maxChunkData) || maxChunkData < 1 || maxChunkData > MAX_CHUNK_DATA) {
    throw new RangeError(`maxChunkData must be an integer from 1 to ${MAX_CHUNK_DATA}`);
  }
  const chunks: Buffer[] = [];
  let offset = 0;
  do {
    const end = Math.min(offset + maxChunkData, payload.length);
    const chunk = Buffer.allocUnsafe(FLAG_LENGTH + end - offset);
    chunk[0] = end === payload.length ? FLAG_FINAL : FLAG_MORE;
    chunk.set(payload.subarray(offset, end), FLAG_LENGTH);
    chunks.push(chunk);
    offset = end;
  } while (offset < payload.length);
  return chunks;
}

export interface ReassemblerOptions {
  /** Hard cap on one reassembled payload; exceeding it fails before the data is stored. */
  maxPayloadBytes: number;
}

/**
 * Rebuilds payloads from chunk plaintexts (already decrypted, in order).
 * A peer that breaks the rules is not given a second chance: after any error
 * the reassembler stays failed, because the chunk boundaries that follow can
 * no longer be trusted.
 */
export class Reassembler {
  readonly #maxPayloadBytes: number;
  #parts: Buffer[] = [];
  #size = 0;
  #failure: FrameError | undefined;

  constructor(options: ReassemblerOptions) {
    if (!Number.isInteger(options.maxPayloadBytes) || options.maxPayloadBytes < 0) {
      throw new RangeError("maxPayloadBytes must be a non-negative integer");
    }
    this.#maxPayloadBytes = options.maxPayloadBytes;
  }

  /** Bytes of the payload currently being assembled. */
  get bufferedBytes(): number {
    return this.#size;
  }

  /** Returns the whole payload when `chunkPlaintext` is a final chunk, otherwise undefined. */
  push(chunkPlaintext: Uint8Array): Buffer | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    const flag = chunkPlaintext[0];
    if (flag === undefined) this.#fail(new FrameError("bad-chunk", "empty chunk (no flag byte)"));
    if (flag !== FLAG_FINAL && flag !== FLAG_MORE) {
      this.#fail(new FrameError("bad-chunk", `unknown chunk flag 0x${flag.toString(16).padStart(2, "0")}`));
    }
    const data = chunkPlaintext.subarray(FLAG_LENGTH);
    // splitPayload never emits a non-final chunk without data; accepting them
    // would let a peer keep us busy forever without ever reaching the cap.
    if (flag === FLAG_MORE && data.length === 0) {
      this.#fail(new FrameError("bad-chunk", "non-final chunk carries no data"));
    }
    if (this.#size + data.length > this.#maxPayloadBytes) {
      this.#fail(
        new FrameError("reassembly-too-large", `payload exceeds the limit of ${this.#maxPayloadBytes} bytes`),
      );
    }
    // The common case, a payload in one chunk, is copied once, not once into parts and again by concat.
    if (flag === FLAG_FINAL && this.#parts.length === 0) return Buffer.from(data);
    this.#parts.push(Buffer.from(data));
    this.#size += data.length;
    if (flag === FLAG_MORE) return undefined;

    const payload = Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    return payload;
  }

  #fail(error: FrameError): never {
    this.#failure = error;
    this.#parts = [];
    this.#size = 0;
    throw error;
  }
}
