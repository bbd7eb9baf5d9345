import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { AckSchema, EnvelopeSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { newMessageId } from "@jarvis/core";
import { ackEnvelope, decodeEnvelope, groupUpdateAckId } from "./envelopes.js";

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
