export { MAX_CHUNK_DATA, Reassembler, splitPayload } from "./chunking.js";
export type { ReassemblerOptions } from "./chunking.js";
export { encodeFrame, FrameDecoder, MAX_FRAME_LENGTH } from "./frame-decoder.js";
export type { FrameDecoderOptions } from "./frame-decoder.js";
export { FrameError } from "./frame-error.js";
export type { FrameErrorCode } from "./frame-error.js";
