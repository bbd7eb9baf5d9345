import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ChatMessageSchema,
  EnvelopeSchema,
  GroupMessageSchema,
  GroupUpdateSchema,
  HelloSchema,
  ReceiptSchema,
  type Envelope,
} from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { Card } from "../model.js";
import { cardToProto } from "../contacts/card-codec.js";
import { decodeHotEnvelope } from "./envelope-reader.js";

/** Builders for the peer envelopes the session sends (docs/protocol.md). */

export const PROTOCOL_VERSION = 1;
export const CAPABILITIES = ["receipts", "groups"];

const encode = (body: Envelope["body"]): Buffer => Buffer.from(toBinary(EnvelopeSchema, create(EnvelopeSchema, { body })));

export function decodeEnvelope(payload: Uint8Array): Envelope {
  return decodeHotEnvelope(payload) ?? fromBinary(EnvelopeSchema, payload);
}

interface Outgoing {
  id: string;
  sequence: number;
  sentAt: number;
  text: string;
}

export const helloEnvelope = (displayName: string, advertisedAddress: string, replyRequested = false) =>
  encode({
    case: "hello",
    value: create(HelloSchema, { protocolVersion: PROTOCOL_VERSION, capabilities: CAPABILITIES, displayName, advertisedAddress, replyRequested }),
  });

/** Envelope field 2 (chat_message) and its fields 1 and 4 (length-delimited), 2 and 3 (varints). */
const CHAT_BODY_TAG = (2 << 3) | 2;
const [CHAT_ID_TAG, CHAT_SEQUENCE_TAG, CHAT_SENT_AT_TAG, CHAT_TEXT_TAG] = [(1 << 3) | 2, 2 << 3, 3 << 3, (4 << 3) | 2];

/**
 * An Envelope{chat_message} written directly (one per message sent; the reflective encoder's
 * field walk showed in the sender's profile). The bytes are exactly toBinary's (a test
 * compares); a negative or unsafe number is left to protobuf-es.
 */
export function chatEnvelope(m: Outgoing): Buffer {
  const { id, sequence, sentAt, text } = m;
  if (!Number.isSafeInteger(sequence) || !Number.isSafeInteger(sentAt) || sequence < 0 || sentAt < 0) {
    return encode({ case: "chatMessage", value: create(ChatMessageSchema, { messageId: id, sequence: BigInt(sequence), sentAtMs: BigInt(sentAt), text }) });
  }
  const idLength = Buffer.byteLength(id, "utf8");
  const textLength = Buffer.byteLength(text, "utf8");
  const stringField = (length: number) => (length === 0 ? 0 : 1 + varintSize(length) + length);
  const varintField = (value: number) => (value === 0 ? 0 : 1 + varintSize(value));
  const body = stringField(idLength) + varintField(sequence) + varintField(sentAt) + stringField(textLength);
  const out = Buffer.allocUnsafe(1 + varintSize(body) + body);
  out[0] = CHAT_BODY_TAG;
  let at = writeVarint(out, 1, body);
  if (idLength > 0) {
    out[at++] = CHAT_ID_TAG;
    at = writeVarint(out, at, idLength);
    at += out.write(id, at, "utf8");
  }
  if (sequence !== 0) {
    out[at++] = CHAT_SEQUENCE_TAG;
    at = writeVarint(out, at, sequence);
  }
  if (sentAt !== 0) {
    out[at++] = CHAT_SENT_AT_TAG;
    at = writeVarint(out, at, sentAt);
  }
  if (textLength > 0) {
    out[at++] = CHAT_TEXT_TAG;
    at = writeVarint(out, at, textLength);
    out.write(text, at, "utf8");
  }
  return out;
}

export const groupMessageEnvelope = (groupId: string, m: Outgoing) =>
  encode({
    case: "groupMessage",
    value: create(GroupMessageSchema, { groupId, messageId: m.id, sequence: BigInt(m.sequence), sentAtMs: BigInt(m.sentAt), text: m.text }),
  });

export const groupUpdateEnvelope = (g: { id: string; name: string; creatorUid: string; revision: number; adminUids: string[] }, members: Card[]) =>
  encode({
    case: "groupUpdate",
    value: create(GroupUpdateSchema, {
      groupId: g.id,
      name: g.name,
      creatorUid: g.creatorUid,
      revision: BigInt(g.revision),
      members: members.map(cardToProto),
      adminUids: g.adminUids,
    }),
  });

/** Envelope field 5 (ack) and Ack field 1 (message_ids), both length-delimited (wire type 2). */
const ACK_BODY_TAG = (5 << 3) | 2;
const ACK_ID_TAG = (1 << 3) | 2;

/**
 * An Envelope{ack} written directly: the receiver acks every message it stores, and the
 * reflective encoder spent ~1 µs per id. The bytes are exactly toBinary's (a test compares).
 */
export function ackEnvelope(ids: string[]): Buffer {
  const lengths = ids.map((id) => Buffer.byteLength(id, "utf8"));
  let body = 0;
  for (const length of lengths) body += 1 + varintSize(length) + length;
  const out = Buffer.allocUnsafe(1 + varintSize(body) + body);
  out[0] = ACK_BODY_TAG;
  let at = writeVarint(out, 1, body);
  ids.forEach((id, i) => {
    out[at++] = ACK_ID_TAG;
    at = writeVarint(out, at, lengths[i] as number);
    at += out.write(id, at, "utf8");
  });
  return out;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

export const receiptEnvelope = (ids: string[], receiptId: string) => encode({ case: "receipt", value: create(ReceiptSchema, { messageIds: ids, receiptId }) });

/** The ack id of a group update: a revision is acknowledged, not a message. */
export const groupUpdateAckId = (groupId: string, revision: number | bigint) => `${groupId}:${revision}`;
