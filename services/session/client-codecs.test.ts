import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { MessageSchema, MessageState } from "@jarvis/proto/jarvis/session/v1/resources";
import {
  SendMessageRequestSchema,
  SendMessageResponseSchema,
  SendMessagesRequestSchema,
  SendMessagesResponseSchema,
  SubscribeResponseSchema,
} from "@jarvis/proto/jarvis/session/v1/session_service";
import { ContactAddedSchema } from "@jarvis/proto/jarvis/session/v1/events";
import type { MessageCodec } from "@jarvis/rpc";
import { SESSION_CLIENT_CODECS } from "./client-codecs.js";
import { HOT_PATH_CODECS } from "./wire-codecs.js";

// The client's codecs must be indistinguishable from protobuf-es: the same bytes out, the same
// messages in (checked with toStrictEqual, so even absent-versus-undefined fields count), and
// everything else — unusual or hostile bytes — left to protobuf-es.

const codec = (schema: DescMessage): MessageCodec => SESSION_CLIENT_CODECS.find((c) => c.schema === schema) as MessageCodec;
const serverCodec = (schema: DescMessage): MessageCodec => HOT_PATH_CODECS.find((c) => c.schema === schema) as MessageCodec;

const message = create(MessageSchema, {
  id: "0190f3a2b4c5d6e7f8091a2b3c4d5e6f",
  conversationId: "a".repeat(64),
  senderUid: "b".repeat(64),
  outgoing: true,
  text: "héllo — ✓ 🚀 " + "x".repeat(100),
  state: MessageState.QUEUED,
  sentTime: timestampFromMs(1_764_300_000_123),
  receivedTime: timestampFromMs(1_764_300_000_456),
  position: 12_345n,
  read: true,
});
const messages = [create(MessageSchema, {}), message, create(MessageSchema, { text: "y".repeat(70_000), state: MessageState.RECEIVED, receivedTime: {} })];

const responses = messages.flatMap((m) => [
  create(SendMessagesResponseSchema, { correlationId: "17", result: { case: "message", value: m } }),
  create(SendMessagesResponseSchema, { correlationId: "", result: { case: "message", value: m } }),
]);
responses.push(
  create(SendMessagesResponseSchema, { correlationId: "9", result: { case: "error", value: { grpcCode: 8, errorCode: "outbox-full", message: "the outbox is full" } } }),
  create(SendMessagesResponseSchema, { correlationId: "9" }),
);
const events = messages.flatMap((m) => [
  create(SubscribeResponseSchema, { cursor: 77n, eventTime: timestampFromMs(1_764_300_000_999), event: { case: "messageReceived", value: { message: m } } }),
  create(SubscribeResponseSchema, { cursor: 2n ** 40n, event: { case: "messageCreated", value: { message: m } } }),
]);
events.push(
  create(SubscribeResponseSchema, { cursor: 8n, event: { case: "unreadCountsChanged", value: {} } }),
  create(SubscribeResponseSchema, {
    cursor: 9n,
    eventTime: timestampFromMs(1_764_300_001_000),
    event: { case: "unreadCountsChanged", value: { counts: [{ conversationId: "b".repeat(64), unread: 12 }, { conversationId: "g1" }], total: 12 } },
  }),
  create(SubscribeResponseSchema, { cursor: 5n, event: { case: "messageCreated", value: {} } }),
  create(SubscribeResponseSchema, { cursor: 6n, event: { case: "messageStateChanged", value: { messageId: "m", conversationId: "c", state: MessageState.DELIVERED } } }),
  create(SubscribeResponseSchema, { cursor: 0n }),
);

function decodesLikeProtobufEs(schema: DescMessage, value: Message): void {
  const bytes = toBinary(schema, value);
  const decoded = codec(schema).decode?.(bytes);
  // Not declined: the point is that these common shapes skip protobuf-es.
  expect(decoded).toBeDefined();
  expect(decoded).toStrictEqual(fromBinary(schema, bytes));
}

describe("the session client's wire codecs", () => {
  it("decode send answers and message events to exactly protobuf-es's messages", () => {
    for (const response of responses) decodesLikeProtobufEs(SendMessagesResponseSchema, response);
    for (const m of messages) decodesLikeProtobufEs(SendMessageResponseSchema, create(SendMessageResponseSchema, { message: m }));
    decodesLikeProtobufEs(SendMessageResponseSchema, create(SendMessageResponseSchema, {}));
    for (const event of events) decodesLikeProtobufEs(SubscribeResponseSchema, event);
  });

  it("decode what the server's hand-written encoders write", () => {
    for (const response of responses) {
      const bytes = serverCodec(SendMessagesResponseSchema).encode?.(response) as Uint8Array;
      expect(codec(SendMessagesResponseSchema).decode?.(bytes)).toStrictEqual(fromBinary(SendMessagesResponseSchema, bytes));
    }
  });

  it("encode send requests to exactly protobuf-es's bytes, which the server's decoders read back", () => {
    const requests = [
      create(SendMessagesRequestSchema, { correlationId: "1", conversation: "contact:bob", text: "hi ✓", idempotencyKey: "k" }),
      create(SendMessagesRequestSchema, { text: "z".repeat(70_000) }),
      create(SendMessagesRequestSchema, {}),
    ];
    for (const request of requests) {
      const bytes = codec(SendMessagesRequestSchema).encode?.(request) as Uint8Array;
      expect(Buffer.from(bytes)).toEqual(Buffer.from(toBinary(SendMessagesRequestSchema, request)));
      expect(serverCodec(SendMessagesRequestSchema).decode?.(bytes)).toStrictEqual(request);
    }
    const unary = create(SendMessageRequestSchema, { conversation: "g", text: "t", idempotencyKey: "i" });
    expect(Buffer.from(codec(SendMessageRequestSchema).encode?.(unary) as Uint8Array)).toEqual(Buffer.from(toBinary(SendMessageRequestSchema, unary)));
  });

  it("decline what they were not written for, leaving it to protobuf-es", () => {
    const decode = (schema: DescMessage, bytes: Uint8Array) => codec(schema).decode?.(bytes);
    // Another kind of event.
    const contact = create(SubscribeResponseSchema, { cursor: 1n, event: { case: "contactAdded", value: create(ContactAddedSchema, {}) } });
    expect(decode(SubscribeResponseSchema, toBinary(SubscribeResponseSchema, contact))).toBeUndefined();
    // An unread total from 2^31 up, and counts after the total (protobuf-es would merge them).
    const bigTotal = create(SubscribeResponseSchema, { event: { case: "unreadCountsChanged", value: { total: 2 ** 31 } } });
    expect(decode(SubscribeResponseSchema, toBinary(SubscribeResponseSchema, bigTotal))).toBeUndefined();
    expect(decode(SubscribeResponseSchema, Buffer.from([0x62, 0x06, 0x10, 0x01, 0x0a, 0x02, 0x0a, 0x00]))).toBeUndefined();
    // A negative state (a 10-byte varint), a position past 2^49, an unknown field, a repeated field.
    const valid = toBinary(SendMessageResponseSchema, create(SendMessageResponseSchema, { message }));
    expect(decode(SendMessageResponseSchema, toBinary(SendMessageResponseSchema, create(SendMessageResponseSchema, { message: { state: -1 } })))).toBeUndefined();
    expect(decode(SendMessageResponseSchema, toBinary(SendMessageResponseSchema, create(SendMessageResponseSchema, { message: { position: 2n ** 60n } })))).toBeUndefined();
    expect(decode(SendMessageResponseSchema, Buffer.concat([valid, Buffer.from([0x58, 0x01])]))).toBeUndefined();
    expect(decode(SendMessageResponseSchema, Buffer.concat([valid, valid]))).toBeUndefined();
    // Invalid UTF-8 in the text.
    expect(decode(SendMessagesResponseSchema, Buffer.from([0x0a, 0x02, 0xc3, 0x28]))).toBeUndefined();
    // A request with unknown fields is encoded by protobuf-es.
    const unknown = fromBinary(SendMessagesRequestSchema, Buffer.from([0x0a, 0x01, 0x31, 0x78, 0x01]));
    expect(codec(SendMessagesRequestSchema).encode?.(unknown)).toBeUndefined();
  });

  it("decline fields out of order, a bool that is not 0 or 1, another wire type, padded tags", () => {
    const decode = (bytes: number[]) => codec(SendMessageResponseSchema).decode?.(Uint8Array.from(bytes));
    const inMessage = (fields: number[]) => [0x0a, fields.length, ...fields];
    // Each is read by protobuf-es (the bytes are valid), so declining loses nothing.
    const declined = [
      inMessage([0x12, 0x01, 0x63, 0x0a, 0x01, 0x69]), // conversation_id before id
      inMessage([0x0a, 0x01, 0x69, 0x0a, 0x01, 0x6a]), // id twice
      inMessage([0x20, 0x02]), // outgoing = 2
      inMessage([0x30, 0x80, 0x80, 0x80, 0x80, 0x08]), // state 2^31: negative as int32
      inMessage([0x3a, 0x02, 0x08, 0x05, 0x3a, 0x00]), // sent_time twice
      inMessage([0x3a, 0x02, 0x10, 0x05, 0x08]), // a timestamp's nanos before its seconds, then a cut
      inMessage([0x35, 0x01, 0x00, 0x00, 0x00]), // state as fixed32
      inMessage([0x8a, 0x00, 0x01, 0x69]), // id under a padded tag
    ];
    for (const bytes of declined) expect(decode(bytes), bytes.join(",")).toBeUndefined();
    for (const bytes of declined.slice(0, 3)) expect(() => fromBinary(SendMessageResponseSchema, Uint8Array.from(bytes))).not.toThrow();
    // Empty nested messages and zero-length strings written out are read exactly.
    for (const bytes of [inMessage([0x0a, 0x00, 0x3a, 0x00, 0x42, 0x00]), inMessage([])]) {
      expect(decode(bytes)).toStrictEqual(fromBinary(SendMessageResponseSchema, Uint8Array.from(bytes)));
    }
  });

  it("never read past the end: every truncation of valid bytes is declined, not misread", () => {
    for (const [schema, value] of [
      [SendMessagesResponseSchema, responses[2]],
      [SubscribeResponseSchema, events[3]],
    ] as const) {
      const bytes = toBinary(schema, value as Message);
      for (let cut = 1; cut < bytes.length; cut++) {
        const truncated = bytes.subarray(0, cut);
        const decoded = codec(schema).decode?.(truncated);
        // A cut may fall between two fields (a valid, shorter message); then it must match protobuf-es.
        if (decoded !== undefined) expect(decoded).toStrictEqual(fromBinary(schema, truncated));
      }
    }
  });
});
