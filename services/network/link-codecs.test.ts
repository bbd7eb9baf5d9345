import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import {
  InboundFrameSchema,
  LinkRequestSchema,
  LinkResponseSchema,
  OutboundFrameSchema,
  FramesSentSchema,
  type LinkRequest,
  type LinkResponse,
} from "@jarvis/proto/jarvis/network/v1/network_service";
import type { MessageCodec } from "@jarvis/rpc";
import { LINK_CODECS } from "./link-codecs.js";

// The Link's hand-written codecs must be indistinguishable from protobuf-es: the same bytes
// out, the same messages in, and protobuf-es left to do whatever they were not written for.

const codec = (schema: DescMessage): MessageCodec => LINK_CODECS.find((c) => c.schema === schema) as MessageCodec;
const decodeRequest = (bytes: Uint8Array) => codec(LinkRequestSchema).decode?.(bytes) as LinkRequest | undefined;
const encodeResponse = (message: LinkResponse) => codec(LinkResponseSchema).encode?.(message);

const key = new Uint8Array(32).fill(7);
const payload = (n: number) => new Uint8Array(n).map((_, i) => i % 251);

const requests: LinkRequest[] = [
  create(LinkRequestSchema, {}),
  create(LinkRequestSchema, { body: { case: "frame", value: {} } }),
  create(LinkRequestSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(100), frameId: 1n, channelId: 3n } } }),
  create(LinkRequestSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(70_000), frameId: 2n ** 48n + 1n } } }),
  create(LinkRequestSchema, { body: { case: "frames", value: { frames: [] } } }),
  create(LinkRequestSchema, {
    body: { case: "frames", value: { frames: [{ publicKey: key, payload: payload(10), frameId: 127n, channelId: 128n }, {}, { payload: payload(1), frameId: 16_384n }] } },
  }),
];

const responses: LinkResponse[] = [
  create(LinkResponseSchema, { body: { case: "frame", value: {} } }),
  create(LinkResponseSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(100) } } }),
  create(LinkResponseSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(65_536) } } }),
  create(LinkResponseSchema, { body: { case: "frames", value: { frames: [] } } }),
  create(LinkResponseSchema, { body: { case: "frames", value: { frames: [{ publicKey: key, payload: payload(3) }, {}, { payload: payload(300) }] } } }),
  create(LinkResponseSchema, { body: { case: "framesSent", value: {} } }),
  create(LinkResponseSchema, { body: { case: "framesSent", value: { publicKey: key, frameIds: [1n] } } }),
  create(LinkResponseSchema, { body: { case: "framesSent", value: { publicKey: key, frameIds: [0n, 127n, 128n, 2n ** 35n, 2n ** 49n - 1n] } } }),
];

describe("the Link's wire codecs", () => {
  it("know every field of the messages they encode and decode (a new field must be added here)", () => {
    expect(OutboundFrameSchema.fields.map((f) => f.localName)).toEqual(["publicKey", "payload", "frameId", "channelId"]);
    expect(InboundFrameSchema.fields.map((f) => f.localName)).toEqual(["publicKey", "payload"]);
    expect(FramesSentSchema.fields.map((f) => f.localName)).toEqual(["publicKey", "frameIds"]);
    expect(LinkRequestSchema.fields.map((f) => f.localName)).toEqual(["frame", "frames", "options"]);
  });

  it("decode a LinkRequest's frames as protobuf-es does", () => {
    for (const request of requests) {
      const bytes = toBinary(LinkRequestSchema, request);
      expect(decodeRequest(bytes)).toEqual(fromBinary(LinkRequestSchema, bytes));
    }
  });

  it("encode a LinkResponse's frames and reports to protobuf-es's bytes", () => {
    for (const response of responses) {
      const bytes = encodeResponse(response);
      expect(bytes).toBeDefined();
      expect(Buffer.from(bytes as Uint8Array).equals(Buffer.from(toBinary(LinkResponseSchema, response)))).toBe(true);
    }
  });

  it("decline what they were not written for, so protobuf-es handles it", () => {
    const options = toBinary(LinkRequestSchema, create(LinkRequestSchema, { body: { case: "options", value: { inboundFrameBatches: true } } }));
    expect(decodeRequest(options)).toBeUndefined();
    const huge = toBinary(LinkRequestSchema, create(LinkRequestSchema, { body: { case: "frame", value: { frameId: 2n ** 63n } } }));
    expect(decodeRequest(huge)).toBeUndefined();
    // An unknown field (15, varint) inside the frame.
    const frame = toBinary(OutboundFrameSchema, create(OutboundFrameSchema, { frameId: 5n }));
    const withUnknown = Uint8Array.from([0x0a, frame.length + 2, ...frame, 0x78, 0x01]);
    expect(decodeRequest(withUnknown)).toBeUndefined();
    // Truncated: the frame claims more bytes than there are.
    expect(decodeRequest(Uint8Array.from([0x0a, 0x05, 0x18, 0x01]))).toBeUndefined();
    // The same oneof twice (protobuf-es merges them).
    const twice = toBinary(LinkRequestSchema, requests[2] as LinkRequest);
    expect(decodeRequest(Uint8Array.from([...twice, ...twice]))).toBeUndefined();

    const dropped = create(LinkResponseSchema, { body: { case: "frameDropped", value: { publicKey: key, frameId: 1n, errorCode: "x" } } });
    expect(encodeResponse(dropped)).toBeUndefined();
    expect(encodeResponse(create(LinkResponseSchema, { body: { case: "framesSent", value: { frameIds: [2n ** 49n] } } }))).toBeUndefined();
    const unknown = create(LinkResponseSchema, { body: { case: "frame", value: { payload: payload(1) } } });
    (unknown.body.value as { $unknown?: unknown[] }).$unknown = [{ no: 9, wireType: 0, data: Uint8Array.from([1]) }];
    expect(encodeResponse(unknown)).toBeUndefined();
  });

  it("never read past an end: every truncation of a batch is declined or read as protobuf-es reads it", () => {
    const bytes = toBinary(LinkRequestSchema, requests[5] as LinkRequest);
    for (let cut = 1; cut < bytes.length; cut++) {
      const truncated = bytes.subarray(0, cut);
      const decoded = decodeRequest(truncated);
      if (decoded !== undefined) expect(decoded).toEqual(fromBinary(LinkRequestSchema, truncated));
      else expect(() => fromBinary(LinkRequestSchema, truncated)).toThrow();
    }
    // A frame inside the batch that claims more than the batch holds (though the request has it).
    expect(decodeRequest(Uint8Array.from([0x12, 0x02, 0x0a, 0x02, 0x18, 0x01]))).toBeUndefined();
  });
});
