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
import type { Message } from "@jarvis/proto/jarvis/session/v1/resources";
import { WireWriter, hasUnknownFields, lengthFieldSize } from "@jarvis/core";
import type { MessageCodec } from "@jarvis/rpc";
import { WireReader } from "./wire-reader.js";

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
  { schema: SendMessagesResponseSchema, decode: (bytes) => decodeSendMessagesResponse(new WireReader(bytes)) },
  { schema: SendMessageResponseSchema, decode: (bytes) => decodeSendMessageResponse(new WireReader(bytes)) },
  { schema: SubscribeResponseSchema, decode: (bytes) => decodeMessageEvent(new WireReader(bytes)) },
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

/**
 * Reads the fields of one message between r.pos and `end`, each field number above the last
 * (as every encoder here and protobuf-es write them): a repeated or reordered field would need
 * protobuf-es's merge rules, so it declines instead. `field` returns false for a tag it does not know.
 */
function readFields(r: WireReader, end: number, field: (tag: number) => boolean): boolean {
  let last = 0;
  while (r.pos < end && !r.failed) {
    const tag = r.tag();
    if (r.failed || tag >>> 3 <= last || !field(tag)) return false;
    last = tag >>> 3;
  }
  return !r.failed && r.pos === end;
}

function readTimestamp(r: WireReader): Timestamp | undefined {
  const end = r.lengthEnd();
  if (end < 0) return undefined;
  const time: Timestamp = { $typeName: "google.protobuf.Timestamp", seconds: 0n, nanos: 0 };
  const ok = readFields(r, end, (tag) => {
    if (tag === 0x08) time.seconds = BigInt(r.varint());
    else if (tag === 0x10) time.nanos = r.int31();
    else return false;
    return true;
  });
  return ok ? time : undefined;
}

/** jarvis.session.v1.Message, as a length-delimited field starting at r.pos. */
function readMessage(r: WireReader): Message | undefined {
  const end = r.lengthEnd();
  if (end < 0) return undefined;
  const m: Message = { $typeName: "jarvis.session.v1.Message", id: "", conversationId: "", senderUid: "", outgoing: false, text: "", state: 0, position: 0n, read: false };
  const ok = readFields(r, end, (tag) => {
    switch (tag) {
      case 0x0a: m.id = r.string(); break;
      case 0x12: m.conversationId = r.string(); break;
      case 0x1a: m.senderUid = r.string(); break;
      case 0x20: m.outgoing = r.bool(); break;
      case 0x2a: m.text = r.string(); break;
      case 0x30: m.state = r.int31(); break;
      case 0x3a: { const t = readTimestamp(r); if (!t) return false; m.sentTime = t; break; }
      case 0x42: { const t = readTimestamp(r); if (!t) return false; m.receivedTime = t; break; }
      case 0x48: m.position = BigInt(r.varint()); break;
      case 0x50: m.read = r.bool(); break;
      default: return false;
    }
    return true;
  });
  return ok ? m : undefined;
}

function readSendError(r: WireReader): SendError | undefined {
  const end = r.lengthEnd();
  if (end < 0) return undefined;
  const error: SendError = { $typeName: "jarvis.session.v1.SendError", grpcCode: 0, errorCode: "", message: "" };
  const ok = readFields(r, end, (tag) => {
    if (tag === 0x08) error.grpcCode = r.int31();
    else if (tag === 0x12) error.errorCode = r.string();
    else if (tag === 0x1a) error.message = r.string();
    else return false;
    return true;
  });
  return ok ? error : undefined;
}

function decodeSendMessagesResponse(r: WireReader): SendMessagesResponse | undefined {
  const response: SendMessagesResponse = { $typeName: "jarvis.session.v1.SendMessagesResponse", correlationId: "", result: { case: undefined } };
  const ok = readFields(r, r.end, (tag) => {
    if (tag === 0x0a) response.correlationId = r.string();
    else if (tag === 0x12) {
      const message = readMessage(r);
      if (!message) return false;
      response.result = { case: "message", value: message };
    } else if (tag === 0x1a && response.result.case === undefined) {
      const error = readSendError(r);
      if (!error) return false;
      response.result = { case: "error", value: error };
    } else return false;
    return true;
  });
  return ok ? response : undefined;
}

function decodeSendMessageResponse(r: WireReader): SendMessageResponse | undefined {
  const response: SendMessageResponse = { $typeName: "jarvis.session.v1.SendMessageResponse" };
  const ok = readFields(r, r.end, (tag) => {
    if (tag !== 0x0a) return false;
    const message = readMessage(r);
    if (!message) return false;
    response.message = message;
    return true;
  });
  return ok ? response : undefined;
}

/** A Subscribe event about a message; any other kind (rare) is declined to protobuf-es. */
function decodeMessageEvent(r: WireReader): SubscribeResponse | undefined {
  const response: SubscribeResponse = { $typeName: "jarvis.session.v1.SubscribeResponse", cursor: 0n, event: { case: undefined } };
  const ok = readFields(r, r.end, (tag) => {
    switch (tag) {
      case 0x08: response.cursor = BigInt(r.varint()); return true;
      case 0x12: { const t = readTimestamp(r); if (!t) return false; response.eventTime = t; return true; }
      case 0x1a: case 0x22: return readMessageHolder(r, tag, response);
      case 0x2a: return readStateChange(r, response);
      default: return false;
    }
  });
  return ok ? response : undefined;
}

/** MessageReceived (field 3) or MessageCreated (field 4): field 1 is the message. */
function readMessageHolder(r: WireReader, tag: number, response: SubscribeResponse): boolean {
  const end = r.lengthEnd();
  if (end < 0) return false;
  let message: Message | undefined;
  const ok = readFields(r, end, (inner) => inner === 0x0a && (message = readMessage(r)) !== undefined);
  if (!ok) return false;
  const value = message ? { message } : {};
  response.event =
    tag === 0x1a
      ? { case: "messageReceived", value: { $typeName: "jarvis.session.v1.MessageReceived", ...value } }
      : { case: "messageCreated", value: { $typeName: "jarvis.session.v1.MessageCreated", ...value } };
  return true;
}

function readStateChange(r: WireReader, response: SubscribeResponse): boolean {
  const end = r.lengthEnd();
  if (end < 0) return false;
  const change = { $typeName: "jarvis.session.v1.MessageStateChanged" as const, messageId: "", conversationId: "", state: 0 };
  const ok = readFields(r, end, (tag) => {
    if (tag === 0x0a) change.messageId = r.string();
    else if (tag === 0x12) change.conversationId = r.string();
    else if (tag === 0x18) change.state = r.int31();
    else return false;
    return true;
  });
  if (ok) response.event = { case: "messageStateChanged", value: change };
  return ok;
}

/**
 * How a client of the session's API tunes its transport (`createIpcTransport` options besides
 * the token), in one place so the CLI, the TUI and the bench call the API the same way: these
 * codecs, and SendMessages on the lean bidi path.
 */
export const SESSION_CLIENT_TUNING = { codecs: SESSION_CLIENT_CODECS, leanBidi: true } as const;
