import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  SendMessageRequestSchema,
  SendMessageResponseSchema,
  SendMessagesRequestSchema,
  SendMessagesResponseSchema,
  SubscribeResponseSchema,
  type SendError,
  type SendMessageRequest,
  type SendMessageResponse,
  type SendMessagesRequest,
  type SendMessagesResponse,
  type SubscribeResponse,
} from "@jarvis/proto/jarvis/session/v1/session_service";
import type { Message } from "@jarvis/proto/jarvis/session/v1/resources";
import type { UnreadCountsChanged } from "@jarvis/proto/jarvis/session/v1/events";
import { WireReader, WireWriter, bigVarintSize, decline, hasUnknownFields, lengthFieldSize, readWire, varintSize } from "@jarvis/core";
import type { MessageCodec } from "@jarvis/rpc";

/**
 * Hand-written codecs for the messages of the send path (SendMessage, SendMessages) and for
 * Subscribe's message events, the session's hottest RPCs: the same bytes and messages as protobuf-es (wire-codecs.test.ts
 * checks both ways), at a fraction of its per-field reflection. Anything unusual — unknown
 * fields, a negative varint, invalid UTF-8 — is declined (undefined) and left to protobuf-es.
 * Kept to these few types on purpose: a change to their fields must be made here too (the
 * test compares against protobuf-es and fails on a field this file does not know).
 */
export const HOT_PATH_CODECS: readonly MessageCodec[] = [
  { schema: SendMessagesRequestSchema, decode: (bytes) => readWire(bytes, readSendMessagesRequest) },
  { schema: SendMessageRequestSchema, decode: (bytes) => readWire(bytes, readSendMessageRequest) },
  { schema: SendMessagesResponseSchema, encode: (m) => encodeSendMessagesResponse(m as SendMessagesResponse) },
  { schema: SendMessageResponseSchema, encode: (m) => encodeSendMessageResponse(m as SendMessageResponse) },
  { schema: SubscribeResponseSchema, encode: (m) => encodeMessageEvent(m as SubscribeResponse) },
];

// The send requests: every field a proto3 string (a one-byte tag, wire type 2), in any order;
// a repeated one replaces the earlier value, as in protobuf-es. Anything else declines.

function readSendMessagesRequest(r: WireReader): SendMessagesRequest {
  const request: SendMessagesRequest = { $typeName: "jarvis.session.v1.SendMessagesRequest", correlationId: "", conversation: "", text: "", idempotencyKey: "" };
  while (!r.atEnd) {
    switch (r.tag()) {
      case 0x0a: request.correlationId = r.string(); break;
      case 0x12: request.conversation = r.string(); break;
      case 0x1a: request.text = r.string(); break;
      case 0x22: request.idempotencyKey = r.string(); break;
      default: decline();
    }
  }
  return request;
}

function readSendMessageRequest(r: WireReader): SendMessageRequest {
  const request: SendMessageRequest = { $typeName: "jarvis.session.v1.SendMessageRequest", conversation: "", text: "", idempotencyKey: "" };
  while (!r.atEnd) {
    switch (r.tag()) {
      case 0x0a: request.conversation = r.string(); break;
      case 0x12: request.text = r.string(); break;
      case 0x1a: request.idempotencyKey = r.string(); break;
      default: decline();
    }
  }
  return request;
}

interface MessageSizes {
  size: number;
  id: number;
  conversationId: number;
  senderUid: number;
  text: number;
  sentTime: number;
  receivedTime: number;
}

function timestampSize(time: Timestamp): number {
  return (time.seconds === 0n ? 0 : 1 + bigVarintSize(time.seconds)) + (time.nanos === 0 ? 0 : 1 + varintSize(time.nanos));
}

function messageSizes(m: Message): MessageSizes | undefined {
  if (hasUnknownFields(m) || m.state < 0 || m.position < 0n) return undefined;
  for (const time of [m.sentTime, m.receivedTime]) if (time && (hasUnknownFields(time) || time.seconds < 0n || time.nanos < 0)) return undefined;
  const id = Buffer.byteLength(m.id);
  const conversationId = Buffer.byteLength(m.conversationId);
  const senderUid = Buffer.byteLength(m.senderUid);
  const text = Buffer.byteLength(m.text);
  const sentTime = m.sentTime ? timestampSize(m.sentTime) : 0;
  const receivedTime = m.receivedTime ? timestampSize(m.receivedTime) : 0;
  const size =
    lengthFieldSize(id) +
    lengthFieldSize(conversationId) +
    lengthFieldSize(senderUid) +
    (m.outgoing ? 2 : 0) +
    lengthFieldSize(text) +
    (m.state === 0 ? 0 : 1 + varintSize(m.state)) +
    (m.sentTime ? 1 + varintSize(sentTime) + sentTime : 0) +
    (m.receivedTime ? 1 + varintSize(receivedTime) + receivedTime : 0) +
    (m.position === 0n ? 0 : 1 + bigVarintSize(m.position)) +
    (m.read ? 2 : 0);
  return { size, id, conversationId, senderUid, text, sentTime, receivedTime };
}

function writeTimestamp(w: WireWriter, tag: number, time: Timestamp | undefined, size: number): void {
  if (!time) return;
  w.header(tag, size);
  if (time.seconds !== 0n) {
    w.buf[w.pos++] = 0x08;
    w.bigVarint(time.seconds);
  }
  if (time.nanos !== 0) {
    w.header(0x10, time.nanos);
  }
}

/** jarvis.session.v1.Message, fields 1..10 in order, after its tag and length. */
function writeMessage(w: WireWriter, tag: number, m: Message, sizes: MessageSizes): void {
  w.header(tag, sizes.size);
  w.string(0x0a, m.id, sizes.id);
  w.string(0x12, m.conversationId, sizes.conversationId);
  w.string(0x1a, m.senderUid, sizes.senderUid);
  if (m.outgoing) w.bool(0x20);
  w.string(0x2a, m.text, sizes.text);
  if (m.state !== 0) w.tagged(0x30, m.state);
  writeTimestamp(w, 0x3a, m.sentTime, sizes.sentTime);
  writeTimestamp(w, 0x42, m.receivedTime, sizes.receivedTime);
  if (m.position !== 0n) {
    w.buf[w.pos++] = 0x48;
    w.bigVarint(m.position);
  }
  if (m.read) w.bool(0x50);
}

function encodeSendMessageResponse(r: SendMessageResponse): Uint8Array | undefined {
  if (hasUnknownFields(r)) return undefined;
  if (!r.message) return new Uint8Array(0);
  const sizes = messageSizes(r.message);
  if (!sizes) return undefined;
  const w = new WireWriter(1 + varintSize(sizes.size) + sizes.size);
  writeMessage(w, 0x0a, r.message, sizes);
  return w.done();
}

function encodeSendMessagesResponse(r: SendMessagesResponse): Uint8Array | undefined {
  if (hasUnknownFields(r)) return undefined;
  const correlationId = Buffer.byteLength(r.correlationId);
  const head = lengthFieldSize(correlationId);
  if (r.result.case === "message") {
    const sizes = messageSizes(r.result.value);
    if (!sizes) return undefined;
    const w = new WireWriter(head + 1 + varintSize(sizes.size) + sizes.size);
    w.string(0x0a, r.correlationId, correlationId);
    writeMessage(w, 0x12, r.result.value, sizes);
    return w.done();
  }
  if (r.result.case === "error") return encodeWithError(r, r.result.value, correlationId, head);
  const w = new WireWriter(head);
  w.string(0x0a, r.correlationId, correlationId);
  return w.done();
}

function encodeWithError(r: SendMessagesResponse, error: SendError, correlationId: number, head: number): Uint8Array | undefined {
  if (hasUnknownFields(error)) return undefined;
  const errorCode = Buffer.byteLength(error.errorCode);
  const text = Buffer.byteLength(error.message);
  const size = (error.grpcCode === 0 ? 0 : 1 + varintSize(error.grpcCode)) + lengthFieldSize(errorCode) + lengthFieldSize(text);
  const w = new WireWriter(head + 1 + varintSize(size) + size);
  w.string(0x0a, r.correlationId, correlationId);
  w.header(0x1a, size);
  if (error.grpcCode !== 0) w.tagged(0x08, error.grpcCode);
  w.string(0x12, error.errorCode, errorCode);
  w.string(0x1a, error.message, text);
  return w.done();
}

/**
 * A Subscribe event about a message (received, created, state changed) or the unread counts:
 * one per message on each side, while the other kinds are rare. Those others are declined
 * (protobuf-es encodes them).
 */
function encodeMessageEvent(r: SubscribeResponse): Uint8Array | undefined {
  if (hasUnknownFields(r) || (r.eventTime && (hasUnknownFields(r.eventTime) || r.eventTime.seconds < 0n || r.eventTime.nanos < 0))) return undefined;
  const eventTime = r.eventTime ? timestampSize(r.eventTime) : 0;
  const head = (r.cursor === 0n ? 0 : 1 + bigVarintSize(r.cursor)) + (r.eventTime ? 1 + varintSize(eventTime) + eventTime : 0);
  const writeHead = (w: WireWriter) => {
    if (r.cursor !== 0n) {
      w.buf[w.pos++] = 0x08;
      w.bigVarint(r.cursor);
    }
    writeTimestamp(w, 0x12, r.eventTime, eventTime);
  };
  const event = r.event;
  if (event.case === "messageReceived" || event.case === "messageCreated") {
    // MessageReceived and MessageCreated: field 1, the message.
    const tag = event.case === "messageReceived" ? 0x1a : 0x22;
    const message = event.value.message;
    if (hasUnknownFields(event.value)) return undefined;
    const sizes = message ? messageSizes(message) : undefined;
    if (message && !sizes) return undefined;
    const body = message && sizes ? 1 + varintSize(sizes.size) + sizes.size : 0;
    const w = new WireWriter(head + 1 + varintSize(body) + body);
    writeHead(w);
    w.header(tag, body);
    if (message && sizes) writeMessage(w, 0x0a, message, sizes);
    return w.done();
  }
  if (event.case === "messageStateChanged") {
    const change = event.value;
    if (hasUnknownFields(change) || change.state < 0) return undefined;
    const messageId = Buffer.byteLength(change.messageId);
    const conversationId = Buffer.byteLength(change.conversationId);
    const body = lengthFieldSize(messageId) + lengthFieldSize(conversationId) + (change.state === 0 ? 0 : 1 + varintSize(change.state));
    const w = new WireWriter(head + 1 + varintSize(body) + body);
    writeHead(w);
    w.header(0x2a, body);
    w.string(0x0a, change.messageId, messageId);
    w.string(0x12, change.conversationId, conversationId);
    if (change.state !== 0) w.tagged(0x18, change.state);
    return w.done();
  }
  if (event.case === "unreadCountsChanged") return encodeUnreadCounts(event.value, head, writeHead);
  return undefined;
}

/**
 * UnreadCountsChanged (field 12): the receiver publishes one with every commit that stored
 * messages, so at one message at a time it is as frequent as MessageReceived.
 */
function encodeUnreadCounts(change: UnreadCountsChanged, head: number, writeHead: (w: WireWriter) => void): Uint8Array | undefined {
  if (hasUnknownFields(change) || change.counts.some(hasUnknownFields)) return undefined;
  const ids = change.counts.map((count) => Buffer.byteLength(count.conversationId));
  const sizes = change.counts.map((count, i) => lengthFieldSize(ids[i] as number) + (count.unread === 0 ? 0 : 1 + varintSize(count.unread)));
  let body = change.total === 0 ? 0 : 1 + varintSize(change.total);
  for (const size of sizes) body += 1 + varintSize(size) + size;
  const w = new WireWriter(head + 1 + varintSize(body) + body);
  writeHead(w);
  w.header(0x62, body);
  change.counts.forEach((count, i) => {
    w.header(0x0a, sizes[i] as number);
    w.string(0x0a, count.conversationId, ids[i] as number);
    if (count.unread !== 0) w.tagged(0x10, count.unread);
  });
  if (change.total !== 0) w.tagged(0x10, change.total);
  return w.done();
}
