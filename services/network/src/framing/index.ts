export { MAX_CHUNK_DATA, Reassembler, splitPayload } from "./chunking.js";
export type { ReassemblerOptions } from "./chunking.js";
export { decodeControlChunk, encodeControlChunk, FLAG_CONTROL, isControlChunk, MAX_GOODBYE_REASON_BYTES } from "./control.js";
export type { ControlMessage } from "./control.js";
export { encodeFrame, FrameDecoder, MAX_FRAME_LENGTH } from "./frame-decoder.js";
export type { DecodeStep, FrameDecoderOptions } from "./frame-decoder.js";
export { FrameError } from "./frame-error.js";
export type { FrameErrorCode } from "./frame-error.js";
export { decodePacked, encodePacked, FLAG_PACKED, isPacked, MAX_PACKED_PLAINTEXT, PACKED_ENTRY_OVERHEAD, packedLength } from "./packing.js";
