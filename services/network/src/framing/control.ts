import { FrameError } from "./frame-error.js";

/**
 * Control chunks: keepalive and goodbye travel in the chunk layer, below application payloads,
 * so the network never has to look inside a payload to find them (docs/protocol.md §4).
 *
 *   chunk plaintext = 0x02 ‖ type (1 byte) ‖ body
 *   ping    0x01  body = nonce, u64 big-endian
 *   pong    0x02  body = the ping's nonce
 *   goodbye 0x03  body = a short UTF-8 reason (≤ 64 bytes), never logged or passed on
 *   features 0x04 body = a bit set, at least 1 byte; bit 0 of byte 0: "I read packed transport
 *                 messages" (framing/packing). Bits and bytes this version does not know are ignored.
 * Unknown types are ignored, so a later version can add some.
 */
export const FLAG_CONTROL = 0x02;

const TYPE_PING = 0x01;
const TYPE_PONG = 0x02;
const TYPE_GOODBYE = 0x03;
const TYPE_FEATURES = 0x04;
const FEATURE_PACKING = 0x01;
const NONCE_BYTES = 8;
export const MAX_GOODBYE_REASON_BYTES = 64;

export type ControlMessage =
  | { kind: "ping"; nonce: bigint }
  | { kind: "pong"; nonce: bigint }
  | { kind: "goodbye" }
  | { kind: "features"; packing: boolean }
  | { kind: "unknown"; type: number };

export function isControlChunk(chunkPlaintext: Uint8Array): boolean {
  return chunkPlaintext[0] === FLAG_CONTROL;
}

export function encodeControlChunk(message: Exclude<ControlMessage, { kind: "unknown" }> & { reason?: string }): Buffer {
  if (message.kind === "goodbye") {
    const reason = Buffer.from(message.reason ?? "", "utf8").subarray(0, MAX_GOODBYE_REASON_BYTES);
    return Buffer.concat([Buffer.from([FLAG_CONTROL, TYPE_GOODBYE]), reason]);
  }
  if (message.kind === "features") return Buffer.from([FLAG_CONTROL, TYPE_FEATURES, message.packing ? FEATURE_PACKING : 0]);
  const chunk = Buffer.alloc(2 + NONCE_BYTES);
  chunk[0] = FLAG_CONTROL;
  chunk[1] = message.kind === "ping" ? TYPE_PING : TYPE_PONG;
  chunk.writeBigUInt64BE(message.nonce, 2);
  return chunk;
}

/** Parses a control chunk (flag included). A known type with a malformed body is a protocol error. */
export function decodeControlChunk(chunkPlaintext: Uint8Array): ControlMessage {
  const type = chunkPlaintext[1];
  if (chunkPlaintext[0] !== FLAG_CONTROL || type === undefined) throw new FrameError("bad-control", "control chunk without a type");
  const body = Buffer.from(chunkPlaintext.buffer, chunkPlaintext.byteOffset + 2, chunkPlaintext.length - 2);
  switch (type) {
    case TYPE_PING:
    case TYPE_PONG: {
      if (body.length !== NONCE_BYTES) throw new FrameError("bad-control", `${type === TYPE_PING ? "ping" : "pong"} body must be ${NONCE_BYTES} bytes`);
      const nonce = body.readBigUInt64BE(0);
      return type === TYPE_PING ? { kind: "ping", nonce } : { kind: "pong", nonce };
    }
    case TYPE_GOODBYE:
      if (body.length > MAX_GOODBYE_REASON_BYTES) throw new FrameError("bad-control", "goodbye reason too long");
      return { kind: "goodbye" };
    case TYPE_FEATURES:
      if (body.length < 1) throw new FrameError("bad-control", "features body must be at least 1 byte");
      return { kind: "features", packing: ((body[0] as number) & FEATURE_PACKING) !== 0 };
    default:
      return { kind: "unknown", type };
  }
}
