import { JarvisError } from "@jarvis/core";

/**
 * Every failure the Noise layer reports on purpose is a NoiseError, so callers
 * can tell protocol failures (drop the peer) from programming bugs (crash).
 */
export type NoiseErrorCode =
  /** AEAD authentication failed: the peer is wrong or the bytes were tampered with. */
  | "decrypt-failed"
  /** The 64-bit nonce space is used up; the session must be replaced. */
  | "nonce-exhausted"
  /** A message is too short, too long or otherwise not shaped like the pattern says. */
  | "bad-message"
  /** A key has the wrong length or a DH produced the all-zero (low-order) result. */
  | "bad-key"
  /** The call is not allowed now: not our turn, already finished, failed or destroyed. */
  | "wrong-state";

export class NoiseError extends JarvisError {
  declare readonly code: NoiseErrorCode;

  constructor(code: NoiseErrorCode, message: string, options?: { cause?: unknown }) {
    super("unavailable", code, message, options);
  }
}
