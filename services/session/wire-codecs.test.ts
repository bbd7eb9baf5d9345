import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { MessageSchema, MessageState, UnreadCountSchema } from "@jarvis/proto/jarvis/session/v1/resources";
import {
  SendErrorSchema,
  SendMessageRequestSchema,
  SendMessageResponseSchema,
  SendMessagesRequestSchema,
  SendMessagesResponseSchema,
  SubscribeResponseSchema,
} from "@jarvis/proto/jarvis/session/v1/session_service";
import { MessageCreatedSchema, MessageReceivedSchema, MessageStateChangedSchema, UnreadCountsChangedSchema } from "@jarvis/proto/jarvis/session/v1/events";
import type { MessageCodec } from "@jarvis/rpc";
import { HOT_PATH_CODECS } from "./wire-codecs.js";

// The hand-written codecs must be indistinguishable from protobuf-es: the same bytes out, the
// same messages in, and protobuf-es left to do whatever they were not written for.

const codec = (schema: DescMessage): MessageCodec => HOT_PATH_CODECS.find((c) => c.schema === schema) as MessageCodec;

/** Unread counts as the receiver publishes them: none, one conversation, several (a zero count, a large total). */
const UNREAD_COUNTS = [
  create(UnreadCountsChangedSchema, {}),
  create(UnreadCountsChangedSchema, { counts: [{ conversationId: "a".repeat(64), unread: 1 }], total: 1 }),
  create(UnreadCountsChangedSchema, {
    counts: [{ conversationId: "g0123", unread: 300 }, { conversationId: "", unread: 0 }, { conversationId: "✓ group", unread: 2 ** 31 - 1 }],
    total: 2 ** 32 - 1,
  }),
];

const messages = [
  create(MessageSchema, {}),
  create(MessageSchema, {
    id: "0190f3a2b4c5d6e7f8091a2b3c4d5e6f",
    conversationId: "a".repeat(64),
    senderUid: "b".repeat(64),
    outgoing: true,
    text: "x".repeat(100),
    state: MessageState.QUEUED,
    sentTime: timestampFromMs(1_764_300_000_123),
    receivedTime: timestampFromMs(1_764_300_000_456),
    position: 12_345n,
    read: true,
  }),
  create(MessageSchema, { text: "héllo wörld — ✓ 🚀", state: MessageState.READ, sentTime: { seconds: 0n, nanos: 5 }, receivedTime: { seconds: 7n, nanos: 0 } }),
  create(MessageSchema, { text: "y".repeat(65_536), position: 2n ** 63n + 5n, sentTime: { seconds: 2n ** 40n, nanos: 999_999_999 } }),
  create(MessageSchema, { id: "i", read: true, receivedTime: {} }),
];

describe("the send path's wire codecs", () => {
  it("know every field of the messages they encode and decode (a new field must be added here)", () => {
    const names = (schema: DescMessage) => schema.fields.map((f) => `${f.number}:${f.name}`);
    expect(names(MessageSchema)).toEqual(["1:id", "2:conversation_id", "3:sender_uid", "4:outgoing", "5:text", "6:state", "7:sent_time", "8:received_time", "9:position", "10:read"]);
    expect(names(SendMessagesResponseSchema)).toEqual(["1:correlation_id", "2:message", "3:error"]);
    expect(names(SendMessageResponseSchema)).toEqual(["1:message"]);
    expect(names(SendErrorSchema)).toEqual(["1:grpc_code", "2:error_code", "3:message"]);
    expect(names(SendMessagesRequestSchema)).toEqual(["1:correlation_id", "2:conversation", "3:text", "4:idempotency_key"]);
    expect(names(SendMessageRequestSchema)).toEqual(["1:conversation", "2:text", "3:idempotency_key"]);
  });

  it("encode responses to exactly protobuf-es's bytes", () => {
    const streamed = codec(SendMessagesResponseSchema);
    const unary = codec(SendMessageResponseSchema);
    for (const message of messages) {
      for (const correlationId of ["", "7", "ü-1"]) {
        const response = create(SendMessagesResponseSchema, { correlationId, result: { case: "message", value: message } });
        expect(Buffer.from(streamed.encode?.(response) ?? [])).toEqual(Buffer.from(toBinary(SendMessagesResponseSchema, response)));
      }
      const single = create(SendMessageResponseSchema, { message });
      expect(Buffer.from(unary.encode?.(single) ?? [])).toEqual(Buffer.from(toBinary(SendMessageResponseSchema, single)));
    }
    const others = [
      create(SendMessagesResponseSchema, { correlationId: "9", result: { case: "error", value: { grpcCode: 8, errorCode: "outbox-full", message: "outbox is full" } } }),
      create(SendMessagesResponseSchema, { correlationId: "", result: { case: "error", value: {} } }),
      create(SendMessagesResponseSchema, { correlationId: "none" }),
    ];
    for (const response of others) expect(Buffer.from(streamed.encode?.(response) ?? [])).toEqual(Buffer.from(toBinary(SendMessagesResponseSchema, response)));
    const empty = create(SendMessageResponseSchema, {});
    expect(Buffer.from(unary.encode?.(empty) ?? [1])).toEqual(Buffer.from(toBinary(SendMessageResponseSchema, empty)));
  });

  it("decode requests to exactly protobuf-es's messages", () => {
    const streamed = codec(SendMessagesRequestSchema);
    const unary = codec(SendMessageRequestSchema);
    for (const text of ["", "hi", "héllo 🚀", "z".repeat(70_000)]) {
      const request = create(SendMessagesRequestSchema, { correlationId: "42", conversation: "bob", text, idempotencyKey: text ? "k-1" : "" });
      const bytes = toBinary(SendMessagesRequestSchema, request);
      expect(streamed.decode?.(bytes)).toEqual(fromBinary(SendMessagesRequestSchema, bytes));
      const single = create(SendMessageRequestSchema, { conversation: "group:team", text, idempotencyKey: "" });
      const singleBytes = toBinary(SendMessageRequestSchema, single);
      expect(unary.decode?.(singleBytes)).toEqual(fromBinary(SendMessageRequestSchema, singleBytes));
    }
  });

  it("leave to protobuf-es what they were not written for: unknown fields, invalid UTF-8, truncation", () => {
    const decode = codec(SendMessagesRequestSchema).decode as (bytes: Uint8Array) => unknown;
    const valid = toBinary(SendMessagesRequestSchema, create(SendMessagesRequestSchema, { correlationId: "1", conversation: "bob", text: "hi" }));
    expect(decode(valid)).toBeDefined();
    expect(decode(Uint8Array.from([...valid, 0x48, 0x01]))).toBeUndefined(); // field 9, a varint
    expect(decode(Uint8Array.from([...valid, 0x2a, 0x00]))).toBeUndefined(); // field 5: unknown here
    expect(decode(Uint8Array.from([0x1a, 0x02, 0xc3, 0x28]))).toBeUndefined(); // text that is not UTF-8
    expect(decode(valid.subarray(0, valid.length - 1))).toBeUndefined();

    const encode = codec(SendMessagesResponseSchema).encode as (m: unknown) => Uint8Array | undefined;
    const withUnknown = create(SendMessagesResponseSchema, { correlationId: "1" });
    withUnknown.$unknown = [{ no: 99, wireType: 0, data: Uint8Array.of(1) }];
    expect(encode(withUnknown)).toBeUndefined();
  });

  it("decode requests as protobuf-es does whatever the field order, repeats and length padding", () => {
    const decode = codec(SendMessagesRequestSchema).decode as (bytes: Uint8Array) => unknown;
    const field = (tag: number, text: string) => [tag, text.length, ...Buffer.from(text)];
    const shapes = [
      [...field(0x22, "k"), ...field(0x1a, "hi"), ...field(0x0a, "1")], // reversed
      [...field(0x12, "bob"), ...field(0x12, "eve")], // repeated: the last one wins
      [0x12, 0x83, 0x80, 0x80, 0x80, 0x00, ...Buffer.from("bob")], // a length in five bytes, padded
      [0x12, 0x00, 0x0a, 0x00], // empty strings written out
    ];
    for (const shape of shapes) {
      const bytes = Uint8Array.from(shape);
      expect(decode(bytes)).toBeDefined();
      expect(decode(bytes)).toStrictEqual(fromBinary(SendMessagesRequestSchema, bytes));
    }
  });

  it("leave to protobuf-es another wire type, a two-byte tag, field 0, and every truncation", () => {
    const decode = codec(SendMessageRequestSchema).decode as (bytes: Uint8Array) => unknown;
    expect(decode(Uint8Array.of(0x08, 0x01))).toBeUndefined(); // field 1 as a varint
    expect(decode(Uint8Array.of(0x8a, 0x00, 0x00))).toBeUndefined(); // field 1, a padded tag
    expect(decode(Uint8Array.of(0x82, 0x01, 0x00))).toBeUndefined(); // field 16
    expect(decode(Uint8Array.of(0x02, 0x00))).toBeUndefined(); // field 0
    const valid = toBinary(SendMessageRequestSchema, create(SendMessageRequestSchema, { conversation: "contact:bob", text: "héllo ✓ " + "x".repeat(200), idempotencyKey: "k-1" }));
    for (let cut = 1; cut < valid.length; cut++) {
      const truncated = valid.subarray(0, cut);
      const decoded = decode(truncated);
      // A cut between two fields leaves a valid, shorter message: then it must be protobuf-es's.
      if (decoded !== undefined) expect(decoded).toStrictEqual(fromBinary(SendMessageRequestSchema, truncated));
      else expect(() => fromBinary(SendMessageRequestSchema, truncated)).toThrow();
    }
  });

  it("encode Subscribe's message and unread-count events to exactly protobuf-es's bytes, and leave every other event to it", () => {
    const names = (schema: DescMessage) => schema.fields.map((f) => `${f.number}:${f.name}`);
    expect(names(SubscribeResponseSchema).slice(0, 5)).toEqual(["1:cursor", "2:event_time", "3:message_received", "4:message_created", "5:message_state_changed"]);
    expect(names(MessageReceivedSchema)).toEqual(["1:message"]);
    expect(names(MessageCreatedSchema)).toEqual(["1:message"]);
    expect(names(MessageStateChangedSchema)).toEqual(["1:message_id", "2:conversation_id", "3:state"]);
    expect(names(SubscribeResponseSchema)[11]).toBe("12:unread_counts_changed");
    expect(names(UnreadCountsChangedSchema)).toEqual(["1:counts", "2:total"]);
    expect(names(UnreadCountSchema)).toEqual(["1:conversation_id", "2:unread"]);
    const events = codec(SubscribeResponseSchema);
    const heads = [
      { cursor: 0n },
      { cursor: 1n, eventTime: timestampFromMs(1_764_300_000_789) },
      { cursor: 2n ** 40n + 3n, eventTime: { seconds: 0n, nanos: 0 } },
      { cursor: 2n ** 63n + 1n, eventTime: { seconds: 5n, nanos: 1 } },
    ];
    const bodies = [
      ...messages.map((message) => ({ case: "messageReceived" as const, value: create(MessageReceivedSchema, { message }) })),
      ...messages.map((message) => ({ case: "messageCreated" as const, value: create(MessageCreatedSchema, { message }) })),
      { case: "messageReceived" as const, value: create(MessageReceivedSchema, {}) },
      { case: "messageStateChanged" as const, value: create(MessageStateChangedSchema, { messageId: "0190f3a2b4c5d6e7f8091a2b3c4d5e6f", conversationId: "c".repeat(64), state: MessageState.DELIVERED }) },
      { case: "messageStateChanged" as const, value: create(MessageStateChangedSchema, {}) },
      ...UNREAD_COUNTS.map((value) => ({ case: "unreadCountsChanged" as const, value })),
    ];
    for (const head of heads) {
      for (const event of bodies) {
        const response = create(SubscribeResponseSchema, { ...head, event });
        expect(Buffer.from(events.encode?.(response) ?? [])).toEqual(Buffer.from(toBinary(SubscribeResponseSchema, response)));
      }
    }
    const others = [
      create(SubscribeResponseSchema, { cursor: 3n, event: { case: "contactRemoved", value: { uid: "u" } } }),
      create(SubscribeResponseSchema, { cursor: 4n, event: { case: "identityLocked", value: { uid: "u" } } }),
      create(SubscribeResponseSchema, { cursor: 5n }),
    ];
    for (const response of others) expect(events.encode?.(response)).toBeUndefined();
  });
});
