import type { Ack, ChatMessage, Envelope } from "@jarvis/proto/jarvis/peer/v1/envelope";

/**
 * A hand-written decoder for the two envelopes every message costs — a ChatMessage on the
 * receiver, an Ack on the sender — because protobuf-es's reflective decoder was the receiver's
 * largest cost after SQLite (readMessage, findNumber: ~7% of its CPU). It returns exactly what
 * fromBinary would, or undefined for anything it was not written for (another body, an unknown
 * or repeated oneof field, invalid UTF-8, a 64-bit value past 2^53, truncation), which the
 * caller then leaves to protobuf-es.
 */

const CHAT_BODY_TAG = (2 << 3) | 2;
const ACK_BODY_TAG = (5 << 3) | 2;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

class Fallback extends Error {}

const SHORT_STRING = 64;

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

class Reader {
  pos: number;
  readonly #bytes: Uint8Array;
  readonly #end: number;

  constructor(bytes: Uint8Array, pos: number, end: number) {
    this.#bytes = bytes;
    this.pos = pos;
    this.#end = end;
  }

  get done(): boolean {
    return this.pos >= this.#end;
  }

  /** A varint of at most 7 bytes (< 2^49, exact as a number); anything longer falls back. */
  varint(): number {
    let value = 0;
    for (let shift = 1, i = 0; i < 7; i++, shift *= 128) {
      if (this.pos >= this.#end) throw new Fallback();
      const byte = this.#bytes[this.pos++] as number;
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
    throw new Fallback();
  }

  string(): string {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.#end) throw new Fallback();
    const bytes = this.#bytes.subarray(this.pos, end);
    this.pos = end;
    // Ids are ASCII: checked byte by byte, they skip the decoder's call (an ack holds up to 1,000).
    if (length <= SHORT_STRING && isAscii(bytes)) return String.fromCharCode.apply(null, bytes as unknown as number[]);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new Fallback();
    }
  }
}

export function decodeHotEnvelope(payload: Uint8Array): Envelope | undefined {
  const tag = payload[0];
  if (tag !== CHAT_BODY_TAG && tag !== ACK_BODY_TAG) return undefined;
  try {
    const outer = new Reader(payload, 1, payload.length);
    const length = outer.varint();
    // Exactly one body and nothing after it (a second oneof field would replace the first).
    if (outer.pos + length !== payload.length) return undefined;
    const body = new Reader(payload, outer.pos, payload.length);
    const value = tag === CHAT_BODY_TAG ? readChat(body) : readAck(body);
    return { $typeName: "jarvis.peer.v1.Envelope", body: value } as Envelope;
  } catch (error) {
    if (error instanceof Fallback) return undefined;
    throw error;
  }
}

function readChat(r: Reader): Envelope["body"] {
  const chat: ChatMessage = { $typeName: "jarvis.peer.v1.ChatMessage", messageId: "", sequence: 0n, sentAtMs: 0n, text: "" };
  while (!r.done) {
    // A repeated field replaces the earlier value, as in protobuf-es.
    switch (r.varint()) {
      case (1 << 3) | 2:
        chat.messageId = r.string();
        break;
      case 2 << 3:
        chat.sequence = BigInt(r.varint());
        break;
      case 3 << 3:
        chat.sentAtMs = BigInt(r.varint());
        break;
      case (4 << 3) | 2:
        chat.text = r.string();
        break;
      default:
        throw new Fallback(); // unknown fields are kept by protobuf-es ($unknown)
    }
  }
  return { case: "chatMessage", value: chat };
}

function readAck(r: Reader): Envelope["body"] {
  const ack: Ack = { $typeName: "jarvis.peer.v1.Ack", messageIds: [] };
  while (!r.done) {
    if (r.varint() !== ((1 << 3) | 2)) throw new Fallback();
    ack.messageIds.push(r.string());
  }
  return { case: "ack", value: ack };
}
