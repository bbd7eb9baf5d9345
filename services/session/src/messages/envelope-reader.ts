import type { Ack, ChatMessage, Envelope } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { WireReader, decline, readWire } from "@jarvis/core";

/**
 * A hand-written decoder for the two envelopes every message costs — a ChatMessage on the
 * receiver, an Ack on the sender — because protobuf-es's reflective decoder was the receiver's
 * largest cost after SQLite (readMessage, findNumber: ~7% of its CPU). It returns exactly what
 * fromBinary would, or undefined for anything it was not written for (another body, an unknown
 * or repeated oneof field, invalid UTF-8, a 64-bit value past 2^49, a multi-byte tag,
 * truncation), which the caller then leaves to protobuf-es.
 */

const CHAT_BODY_TAG = (2 << 3) | 2;
const ACK_BODY_TAG = (5 << 3) | 2;

export function decodeHotEnvelope(payload: Uint8Array): Envelope | undefined {
  // Any other body is left to protobuf-es before a reader is made.
  const tag = payload[0];
  if (tag !== CHAT_BODY_TAG && tag !== ACK_BODY_TAG) return undefined;
  return readWire(payload, readEnvelope);
}

function readEnvelope(r: WireReader): Envelope {
  const tag = r.tag();
  const envelopeEnd = r.enter();
  // Exactly one body and nothing after it (a second oneof field would replace the first).
  if (r.end !== envelopeEnd) decline();
  const body = tag === CHAT_BODY_TAG ? readChat(r) : readAck(r);
  return { $typeName: "jarvis.peer.v1.Envelope", body } as Envelope;
}

function readChat(r: WireReader): Envelope["body"] {
  const chat: ChatMessage = { $typeName: "jarvis.peer.v1.ChatMessage", messageId: "", sequence: 0n, sentAtMs: 0n, text: "" };
  while (!r.atEnd) {
    // A repeated field replaces the earlier value, as in protobuf-es.
    switch (r.tag()) {
      case (1 << 3) | 2:
        chat.messageId = r.string();
        break;
      case 2 << 3:
        chat.sequence = r.bigint();
        break;
      case 3 << 3:
        chat.sentAtMs = r.bigint();
        break;
      case (4 << 3) | 2:
        chat.text = r.string();
        break;
      default:
        decline(); // unknown fields are kept by protobuf-es ($unknown)
    }
  }
  return { case: "chatMessage", value: chat };
}

function readAck(r: WireReader): Envelope["body"] {
  const ack: Ack = { $typeName: "jarvis.peer.v1.Ack", messageIds: [] };
  while (!r.atEnd) {
    if (r.tag() !== ((1 << 3) | 2)) decline();
    ack.messageIds.push(r.string());
  }
  return { case: "ack", value: ack };
}
