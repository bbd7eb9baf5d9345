/** Why a byte stream or chunk sequence was refused. Every one means: drop the connection. */
export type FrameErrorCode = "frame-too-large" | "frame-empty" | "reassembly-too-large" | "bad-chunk";

export class FrameError extends Error {
  readonly code: FrameErrorCode;

  constructor(code: FrameErrorCode, message: string) {
    super(message);
    this.name = "FrameError";
    this.code = code;
  }
}
