import { JarvisError } from "@jarvis/core";

/** Why a byte stream or chunk sequence was refused. Every one means: drop the connection. */
export type FrameErrorCode = "frame-too-large" | "frame-empty" | "reassembly-too-large" | "bad-chunk" | "bad-control";

export class FrameError extends JarvisError {
  declare readonly code: FrameErrorCode;

  constructor(code: FrameErrorCode, message: string) {
    super("unavailable", code, message);
  }
}
