import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  SendMessageRequestSchema,
  SendMessageResponseSchema,
  SendMessagesRequestSchema,
  SendMessagesResponseSchema,
  SubscribeResponseSchema,
  type SendError,
  type SendMessageResponse,
  type SendMessagesResponse,
  type SubscribeResponse,
} from "@jarvis/proto/jarvis/session/v1/session_service";
import type { Message, UnreadCount } from "@jarvis/proto/jarvis/session/v1/resources";
import type { MessageCreated, MessageReceived, MessageStateChanged, UnreadCountsChanged } from "@jarvis/proto/jarvis/session/v1/events";
import { WireReader, WireWriter, decline, hasUnknownFields, lengthFieldSize, readWire } from "@jarvis/core";
import type { MessageCodec } from "@jarvis/rpc";

/**
 * The client's side of wire-codecs.ts: it encodes what the server decodes by hand (the send
 * requests) and decodes what the server encodes by hand (send answers, Subscribe's message
 * events). A streaming sender (the bench, a bot) otherwise spends more CPU in protobuf-es's
 * reflection than in its own work. Same rules as the server's: exactly protobuf-es's bytes and
 * messages (client-codecs.test.ts compares both ways), and anything unusual — a field out of
 * order or repeated, an unknown field, a negative number, invalid UTF-8 — is declined
 * (undefined) so protobuf-es reads it, errors included.
 */
export const SESSION_CLIENT_CODECS: readonly MessageCodec[] = [
  { schema: SendMessagesRequestSchema, encode: (m) => encodeStrings(m, SEND_MESSAGES_REQUEST_FIELDS) },
  { schema: SendMessageRequestSchema, encode: (m) => encodeStrings(m, SEND_MESSAGE_REQUEST_FIELDS) },
  { schema: SendMessagesResponseSchema, decode: (bytes) => readWire(bytes, readSendMessagesResponse) },
  { schema: SendMessageResponseSchema, decode: (bytes) => readWire(bytes, readSendMessageResponse) },
  { schema: SubscribeResponseSchema, decode: (bytes) => readWire(bytes, readMessageEvent) },
];

const SEND_MESSAGES_REQUEST_FIELDS = ["correlationId", "conversation", "text", "idempotencyKey"];
const SEND_MESSAGE_REQUEST_FIELDS = ["conversation", "text", "idempotencyKey"];

/** A message whose fields 1..n are all proto3 strings, named `fields` in order. */
function encodeStrings(message: object, fields: readonly string[]): Uint8Array | undefined {
  if (hasUnknownFields(message)) return undefined;
  const values = fields.map((name) => (message as Record<string, string>)[name] ?? "");
  const lengths = values.map((value) => Buffer.byteLength(value));
  const w = new WireWriter(lengths.reduce((sum, length) => sum + lengthFieldSize(length), 0));
  values.forEach((value, i) => w.string(((i + 1) << 3) | 2, value, lengths[i] as number));
  return w.done();
}

/** google.protobuf.Timestamp, as a length-delimited field starting at r.pos. */
function readTimestamp(r: WireReader): Timestamp {
  const time: Timestamp = { $typeName: "google.protobuf.Timestamp", seconds: 0n, nanos: 0 };
  const outer = r.enter();
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag === 0x08) time.seconds = r.bigint();
    else if (tag === 0x10) time.nanos = r.int31();
    else decline();
  }
  r.leave(outer);
  return time;
}

/** jarvis.session.v1.Message, as a length-delimited field starting at r.pos. */
function readMessage(r: WireReader): Message {
  const m: Message = { $typeName: "jarvis.session.v1.Message", id: "", conversationId: "", senderUid: "", outgoing: false, text: "", state: 0, position: 0n, read: false };
  const outer = r.enter();
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    switch (tag) {
      case 0x0a: m.id = r.string(); break;
      case 0x12: m.conversationId = r.string(); break;
      case 0x1a: m.senderUid = r.string(); break;
      case 0x20: m.outgoing = r.bool(); break;
      case 0x2a: m.text = r.string(); break;
      case 0x30: m.state = r.int31(); break;
      case 0x3a: m.sentTime = readTimestamp(r); break;
      case 0x42: m.receivedTime = readTimestamp(r); break;
      case 0x48: m.position = r.bigint(); break;
      case 0x50: m.read = r.bool(); break;
      default: decline();
    }
  }
  r.leave(outer);
  return m;
}

function readSendError(r: WireReader): SendError {
  const error: SendError = { $typeName: "jarvis.session.v1.SendError", grpcCode: 0, errorCode: "", message: "" };
  const outer = r.enter();
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag === 0x08) error.grpcCode = r.int31();
    else if (tag === 0x12) error.errorCode = r.string();
    else if (tag === 0x1a) error.message = r.string();
    else decline();
  }
  r.leave(outer);
  return error;
}

function readSendMessagesResponse(r: WireReader): SendMessagesResponse {
  const response: SendMessagesResponse = { $typeName: "jarvis.session.v1.SendMessagesResponse", correlationId: "", result: { case: undefined } };
  // Fields in order, so the result (message or error: one oneof) is read at most once.
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag === 0x0a) response.correlationId = r.string();
    else if (tag === 0x12) response.result = { case: "message", value: readMessage(r) };
    else if (tag === 0x1a && response.result.case === undefined) response.result = { case: "error", value: readSendError(r) };
    else decline();
  }
  return response;
}

function readSendMessageResponse(r: WireReader): SendMessageResponse {
  const response: SendMessageResponse = { $typeName: "jarvis.session.v1.SendMessageResponse" };
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag !== 0x0a) decline();
    response.message = readMessage(r);
  }
  return response;
}

/** A Subscribe event about a message, or the unread counts; any other kind (rare) is declined to protobuf-es. */
function readMessageEvent(r: WireReader): SubscribeResponse {
  const response: SubscribeResponse = { $typeName: "jarvis.session.v1.SubscribeResponse", cursor: 0n, event: { case: undefined } };
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    switch (tag) {
      case 0x08: response.cursor = r.bigint(); break;
      case 0x12: response.eventTime = readTimestamp(r); break;
      case 0x1a: response.event = { case: "messageReceived", value: readMessageHolder(r, "jarvis.session.v1.MessageReceived") }; break;
      case 0x22: response.event = { case: "messageCreated", value: readMessageHolder(r, "jarvis.session.v1.MessageCreated") }; break;
      case 0x2a: response.event = { case: "messageStateChanged", value: readStateChange(r) }; break;
      case 0x62: response.event = { case: "unreadCountsChanged", value: readUnreadCounts(r) }; break;
      default: decline();
    }
  }
  return response;
}

/** MessageReceived (field 3) or MessageCreated (field 4), named `typeName`: field 1 is the message. */
function readMessageHolder<T extends MessageReceived["$typeName"] | MessageCreated["$typeName"]>(r: WireReader, typeName: T): { $typeName: T; message?: Message } {
  const outer = r.enter();
  let message: Message | undefined;
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag !== 0x0a) decline();
    message = readMessage(r);
  }
  r.leave(outer);
  // No message key at all when there is none, as protobuf-es leaves it.
  return message ? { $typeName: typeName, message } : { $typeName: typeName };
}

function readStateChange(r: WireReader): MessageStateChanged {
  const change: MessageStateChanged = { $typeName: "jarvis.session.v1.MessageStateChanged", messageId: "", conversationId: "", state: 0 };
  const outer = r.enter();
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag === 0x0a) change.messageId = r.string();
    else if (tag === 0x12) change.conversationId = r.string();
    else if (tag === 0x18) change.state = r.int31();
    else decline();
  }
  r.leave(outer);
  return change;
}

/** UnreadCountsChanged: the counts (repeated field 1), then the total; anything out of that order declines. */
function readUnreadCounts(r: WireReader): UnreadCountsChanged {
  const change: UnreadCountsChanged = { $typeName: "jarvis.session.v1.UnreadCountsChanged", counts: [], total: 0 };
  const outer = r.enter();
  let totalRead = false;
  while (!r.atEnd) {
    const tag = r.tag();
    if (tag === 0x0a && !totalRead) change.counts.push(readUnreadCount(r));
    else if (tag === 0x10 && !totalRead) {
      change.total = r.int31();
      totalRead = true;
    } else decline();
  }
  r.leave(outer);
  return change;
}

function readUnreadCount(r: WireReader): UnreadCount {
  const count: UnreadCount = { $typeName: "jarvis.session.v1.UnreadCount", conversationId: "", unread: 0 };
  const outer = r.enter();
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag === 0x0a) count.conversationId = r.string();
    else if (tag === 0x10) count.unread = r.int31();
    else decline();
  }
  r.leave(outer);
  return count;
}

/**
 * How a client of the session's API tunes its transport (`createIpcTransport` options besides
 * the token), in one place so the CLI, the TUI and the bench call the API the same way: these
 * codecs, and SendMessages on the lean bidi path.
 */
export const SESSION_CLIENT_TUNING = { codecs: SESSION_CLIENT_CODECS, leanBidi: true } as const;
