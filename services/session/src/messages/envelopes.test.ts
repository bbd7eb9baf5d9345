import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AckSchema, ChatMessageSchema, EnvelopeSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { newMessageId } from "@jarvis/core";
import { decodeHotEnvelope } from "./envelope-reader.js";
import { ackEnvelope, chatEnvelope, decodeEnvelope, groupUpdateAckId, helloEnvelope } from "./envelopes.js";

/** What the reflective encoder writes for the same ack: the hand-written one must match it byte for byte. */
const reference = (ids: string[]) => Buffer.from(toBinary(EnvelopeSchema, create(EnvelopeSchema, { body: { case: "ack", value: create(AckSchema, { messageIds: ids }) } })));

describe("ackEnvelope", () => {
  const cases: [string, string[]][] = [
    ["no ids", []],
    ["one id", [newMessageId()]],
    ["a batch of ids", Array.from({ length: 22 }, () => newMessageId())],
    // 1,000 ids make a body over 16 KiB: its length takes a three-byte varint.
    ["the most one ack carries", Array.from({ length: 1000 }, () => newMessageId())],
    ["group update ack ids", [groupUpdateAckId("g" + "1".repeat(31), 7), groupUpdateAckId("g" + "2".repeat(31), 123456789)]],
    // A peer's id is not ours to trust: a long or non-ASCII one is still written as UTF-8.
    ["a long id and a multi-byte one", ["x".repeat(200), "ü€😀", ""]],
  ];
  for (const [name, ids] of cases) {
    it(`writes exactly the reflective encoder's bytes: ${name}`, () => {
      const bytes = ackEnvelope(ids);
      expect(bytes.equals(reference(ids))).toBe(true);
      const body = decodeEnvelope(bytes).body;
      expect(body.case).toBe("ack");
      expect(body.case === "ack" && body.value.messageIds).toEqual(ids);
    });
  }
});

/** What protobuf-es writes and reads for the same chat message. */
const chatReference = (m: { id: string; sequence: number; sentAt: number; text: string }) =>
  Buffer.from(
    toBinary(EnvelopeSchema, create(EnvelopeSchema, { body: { case: "chatMessage", value: create(ChatMessageSchema, { messageId: m.id, sequence: BigInt(m.sequence), sentAtMs: BigInt(m.sentAt), text: m.text }) } })),
  );

describe("chatEnvelope and the hand-written decoder", () => {
  const cases: [string, { id: string; sequence: number; sentAt: number; text: string }][] = [
    ["a usual message", { id: newMessageId(), sequence: 1, sentAt: Date.now(), text: "x".repeat(100) }],
    ["zeros and empties (left out, as proto3 does)", { id: "", sequence: 0, sentAt: 0, text: "" }],
    ["multi-byte text, a text over 16 KiB, big numbers", { id: newMessageId(), sequence: 2 ** 40, sentAt: 2 ** 48 + 5, text: "ü€😀".repeat(3000) }],
    ["a number past 2^53 goes to protobuf-es both ways", { id: "a", sequence: Number.MAX_SAFE_INTEGER, sentAt: 1, text: "t" }],
    ["a negative clock (ten-byte varint)", { id: "a", sequence: 1, sentAt: -5, text: "t" }],
  ];
  for (const [name, m] of cases) {
    it(`writes toBinary's bytes and reads back what fromBinary reads: ${name}`, () => {
      const bytes = chatEnvelope(m);
      expect(bytes.equals(chatReference(m))).toBe(true);
      expect(decodeEnvelope(bytes)).toEqual(fromBinary(EnvelopeSchema, bytes));
      // The hand-written path read it (not protobuf-es), unless a number was out of its range.
      expect(decodeHotEnvelope(bytes) !== undefined).toBe(Number.isSafeInteger(m.sequence) && m.sequence < 2 ** 49 && m.sentAt >= 0 && m.sentAt < 2 ** 49);
    });
  }

  it("reads exactly what fromBinary reads, or leaves it to fromBinary, for envelopes it was not written for", () => {
    const chat = chatEnvelope({ id: newMessageId(), sequence: 3, sentAt: Date.now(), text: "hi" });
    const ack = ackEnvelope([newMessageId(), newMessageId()]);
    const odd: [string, Uint8Array][] = [
      ["an unknown field in the chat body", Buffer.concat([Buffer.from([chat[0] as number, (chat[1] as number) + 2]), chat.subarray(2), Buffer.from([9 << 3, 1])])],
      ["two bodies (the last one wins)", Buffer.concat([chat, ack])],
      ["a repeated field in the body (the last one wins)", Buffer.concat([Buffer.from([chat[0] as number, (chat[1] as number) + 2]), chat.subarray(2), Buffer.from([2 << 3, 9])])],
      ["another body (hello)", helloEnvelope("bob", "127.0.0.1:1")],
      ["an ack", ack],
      ["an empty envelope", new Uint8Array(0)],
    ];
    for (const [name, bytes] of odd) {
      expect(decodeEnvelope(bytes)).toEqual(fromBinary(EnvelopeSchema, bytes));
      expect(decodeHotEnvelope(bytes) !== undefined).toBe(name === "an ack" || name.startsWith("a repeated field"));
    }
    // Invalid UTF-8 and truncation: whatever protobuf-es makes of them (a value or an error), the same.
    const invalid = Buffer.from(chat);
    invalid[invalid.length - 1] = 0xff;
    for (const bytes of [invalid, chat.subarray(0, chat.length - 1), ack.subarray(0, 10)]) {
      let expected: unknown;
      try {
        expected = fromBinary(EnvelopeSchema, bytes);
      } catch (error) {
        expect(() => decodeEnvelope(bytes)).toThrow((error as Error).message);
        continue;
      }
      expect(decodeEnvelope(bytes)).toEqual(expected);
    }
  });

  it("reads tags as protobuf-es does: a padded tag it accepts is left to it, an over-long one it refuses is refused the same", () => {
    const messageId = [0x01, 0x61]; // length 1, "a"
    const withTag = (tag: number[]) => {
      const body = [...tag, ...messageId];
      return Uint8Array.from([(2 << 3) | 2, body.length, ...body]);
    };
    // Field 1 under a two-byte tag: protobuf-es reads it, so it is left to protobuf-es.
    const padded = withTag([0x8a, 0x00]);
    expect(decodeHotEnvelope(padded)).toBeUndefined();
    expect(decodeEnvelope(padded)).toEqual(fromBinary(EnvelopeSchema, padded));
    expect(decodeEnvelope(padded).body).toMatchObject({ case: "chatMessage", value: { messageId: "a" } });
    // Under a six-byte tag: protobuf-es refuses it, and so does the envelope decoder.
    const overLong = withTag([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00]);
    expect(decodeHotEnvelope(overLong)).toBeUndefined();
    expect(() => decodeEnvelope(overLong)).toThrow("varint overflows uint32");
    // Field 16, which a chat message does not have: protobuf-es keeps it as unknown.
    const field16 = withTag([0x82, 0x01]);
    expect(decodeHotEnvelope(field16)).toBeUndefined();
    expect(decodeEnvelope(field16)).toEqual(fromBinary(EnvelopeSchema, field16));
  });

  it("leaves every truncation and every over-long length to protobuf-es, never misreading", () => {
    const chat = chatEnvelope({ id: newMessageId(), sequence: 2 ** 40, sentAt: Date.now(), text: "héllo ✓" });
    const ack = ackEnvelope([newMessageId(), "ü€😀"]);
    for (const valid of [chat, ack]) {
      expect(decodeHotEnvelope(valid)).toEqual(fromBinary(EnvelopeSchema, valid));
      for (let cut = 1; cut < valid.length; cut++) expect(decodeHotEnvelope(valid.subarray(0, cut)), `cut ${cut}`).toBeUndefined();
      // The body's length one more than the bytes there are.
      const longer = Buffer.from(valid);
      longer[1] = (longer[1] as number) + 1;
      expect(decodeHotEnvelope(longer)).toBeUndefined();
    }
  });
});
