import { MAX_FRAME_LENGTH } from "./frame-decoder.js";
import { FrameError } from "./frame-error.js";

/**
 * Packed transport messages (docs/protocol.md §4): one Noise transport message carrying several
 * chunks, so one seal/open and one frame cover many small payloads instead of one each.
 *
 *   packed plaintext = 0x03 ‖ ( u16 big-endian length ‖ chunk )+
 *
 * Each inner chunk is an ordinary chunk (flag 0x00, 0x01 or 0x02) and is handled exactly as if
 * it had arrived in a transport message of its own, in order, so every per-chunk rule and cap
 * still applies. A node packs only for a peer that announced it (the `features` control chunk).
 */
export const FLAG_PACKED = 0x03;

const FLAG_LENGTH = 1;
const AEAD_TAG_LENGTH = 16;
/** Each inner chunk is preceded by its 2-byte length. */
export const PACKED_ENTRY_OVERHEAD = 2;
/** A packed plaintext plus the AEAD tag must still fit one frame: 65535 - 16 = 65519 bytes. */
export const MAX_PACKED_PLAINTEXT: number = MAX_FRAME_LENGTH - AEAD_TAG_LENGTH;

export function isPacked(plaintext: Uint8Array): boolean {
  return plaintext[0] === FLAG_PACKED;
}

/** Size of the packed plaintext holding chunks of these lengths. */
export function packedLength(chunkLengths: Iterable<number>): number {
  let size = FLAG_LENGTH;
  for (const length of chunkLengths) size += PACKED_ENTRY_OVERHEAD + length;
  return size;
}

/** Packs chunks (each non-empty) into one plaintext of at most MAX_PACKED_PLAINTEXT bytes. */
export function encodePacked(chunks: readonly Uint8Array[]): Buffer {
  const size = packedLength(chunks.map((chunk) => chunk.length));
  if (chunks.length === 0 || size > MAX_PACKED_PLAINTEXT) {
    throw new RangeError(`a packed message holds 1..n chunks in at most ${MAX_PACKED_PLAINTEXT} bytes (got ${chunks.length} chunks, ${size} bytes)`);
  }
  const packed = Buffer.allocUnsafe(size);
  packed[0] = FLAG_PACKED;
  let offset = FLAG_LENGTH;
  for (const chunk of chunks) {
    if (chunk.length === 0 || chunk[0] === FLAG_PACKED) throw new RangeError("a packed message cannot hold an empty or packed chunk");
    packed.writeUInt16BE(chunk.length, offset);
    packed.set(chunk, offset + PACKED_ENTRY_OVERHEAD);
    offset += PACKED_ENTRY_OVERHEAD + chunk.length;
  }
  return packed;
}

/**
 * Splits a packed plaintext into its chunks (views into it, no copies). The whole structure is
 * checked before anything is returned, so a malformed message delivers none of its chunks:
 * it must hold at least one chunk, every chunk is non-empty, none is itself packed (no nesting,
 * so no recursion a peer could drive), and the lengths add up exactly.
 */
export function decodePacked(plaintext: Uint8Array): Buffer[] {
  if (plaintext[0] !== FLAG_PACKED) throw new FrameError("bad-chunk", "not a packed message");
  const view = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  const chunks: Buffer[] = [];
  let offset = FLAG_LENGTH;
  while (offset < view.length) {
    if (offset + PACKED_ENTRY_OVERHEAD > view.length) throw new FrameError("bad-chunk", "packed message ends inside a chunk length");
    const length = view.readUInt16BE(offset);
    const start = offset + PACKED_ENTRY_OVERHEAD;
    if (length === 0) throw new FrameError("bad-chunk", "packed message holds an empty chunk");
    if (start + length > view.length) throw new FrameError("bad-chunk", "packed chunk runs past the end of its message");
    if (view[start] === FLAG_PACKED) throw new FrameError("bad-chunk", "packed messages cannot be nested");
    chunks.push(view.subarray(start, start + length));
    offset = start + length;
  }
  if (chunks.length === 0) throw new FrameError("bad-chunk", "packed message holds no chunk");
  return chunks;
}
