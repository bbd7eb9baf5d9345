import { describe, expect, it } from "vitest";
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { LinkRequestSchema, LinkResponseSchema, type LinkRequest, type LinkResponse } from "@jarvis/proto/jarvis/network/v1/network_service";
import type { MessageCodec } from "@jarvis/rpc";
import { LINK_CLIENT_CODECS } from "./link-client-codecs.js";

// The session's Link codecs must be indistinguishable from protobuf-es: the same bytes out, the
// same messages in (toStrictEqual: absent-versus-undefined counts), and unusual or hostile
// bytes left to protobuf-es. (The network's codecs are held to protobuf-es the same way in
// services/network/link-codecs.test.ts, so the two sides agree with each other through it.)

const codec = (schema: DescMessage): MessageCodec => LINK_CLIENT_CODECS.find((c) => c.schema === schema) as MessageCodec;
const encodeRequest = (message: LinkRequest) => codec(LinkRequestSchema).encode?.(message);
const decodeResponse = (bytes: Uint8Array) => codec(LinkResponseSchema).decode?.(bytes) as LinkResponse | undefined;

const key = new Uint8Array(32).fill(7);
const payload = (n: number) => new Uint8Array(n).map((_, i) => i % 251);

const requests: LinkRequest[] = [
  create(LinkRequestSchema, { body: { case: "frame", value: {} } }),
  create(LinkRequestSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(100), frameId: 1n, channelId: 3n } } }),
  create(LinkRequestSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(70_000), frameId: 2n ** 49n - 1n } } }),
  create(LinkRequestSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(5), channelId: 2n ** 35n } } }),
  create(LinkRequestSchema, { body: { case: "frames", value: { frames: [] } } }),
  create(LinkRequestSchema, {
    body: { case: "frames", value: { frames: [{ publicKey: key, payload: payload(10), frameId: 127n, channelId: 128n }, {}, { payload: payload(200), frameId: 16_384n }] } },
  }),
];

const responses: LinkResponse[] = [
  create(LinkResponseSchema, { body: { case: "frame", value: {} } }),
  create(LinkResponseSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(100) } } }),
  create(LinkResponseSchema, { body: { case: "frame", value: { publicKey: key, payload: payload(65_536) } } }),
  create(LinkResponseSchema, { body: { case: "frames", value: { frames: [] } } }),
  create(LinkResponseSchema, { body: { case: "frames", value: { frames: [{ publicKey: key, payload: payload(3) }, {}, { payload: payload(300) }] } } }),
  create(LinkResponseSchema, { body: { case: "framesSent", value: { publicKey: key, frameIds: [1n, 127n, 128n, 2n ** 49n - 1n] } } }),
  create(LinkResponseSchema, { body: { case: "framesSent", value: { publicKey: key, frameIds: [] } } }),
  create(LinkResponseSchema, { body: { case: "framesSent", value: {} } }),
];

describe("the session's Link codecs", () => {
  it("encode frames and batches to exactly protobuf-es's bytes", () => {
    for (const request of requests) {
      const bytes = encodeRequest(request);
      expect(bytes, JSON.stringify(request.body.case)).toBeDefined();
      expect(Buffer.from(bytes as Uint8Array)).toEqual(Buffer.from(toBinary(LinkRequestSchema, request)));
    }
  });

  it("decode received frames, batches and FramesSent reports to exactly protobuf-es's messages", () => {
    for (const response of responses) {
      const bytes = toBinary(LinkResponseSchema, response);
      const decoded = decodeResponse(bytes);
      // Not declined: the point is that these common shapes skip protobuf-es.
      expect(decoded, response.body.case).toBeDefined();
      expect(decoded).toStrictEqual(fromBinary(LinkResponseSchema, bytes));
    }
  });

  it("decline what they were not written for, leaving it to protobuf-es", () => {
    // Options, peer events and drops are rare: protobuf-es's.
    expect(encodeRequest(create(LinkRequestSchema, { body: { case: "options", value: { inboundFrameBatches: true } } }))).toBeUndefined();
    expect(encodeRequest(create(LinkRequestSchema, {}))).toBeUndefined();
    for (const rare of [
      create(LinkResponseSchema, { body: { case: "peerConnected", value: { publicKey: key, channelId: 4n } } }),
      create(LinkResponseSchema, { body: { case: "peerDisconnected", value: { publicKey: key, errorCode: "gone" } } }),
      create(LinkResponseSchema, { body: { case: "frameDropped", value: { publicKey: key, frameId: 9n, errorCode: "stale-channel" } } }),
      create(LinkResponseSchema, {}),
    ]) {
      expect(decodeResponse(toBinary(LinkResponseSchema, rare))).toBeUndefined();
    }
    // Ids from 2^49 up, either way.
    expect(encodeRequest(create(LinkRequestSchema, { body: { case: "frame", value: { payload: payload(1), frameId: 2n ** 49n } } }))).toBeUndefined();
    expect(encodeRequest(create(LinkRequestSchema, { body: { case: "frames", value: { frames: [{ channelId: 2n ** 60n }] } } }))).toBeUndefined();
    expect(decodeResponse(toBinary(LinkResponseSchema, create(LinkResponseSchema, { body: { case: "framesSent", value: { frameIds: [2n ** 49n] } } })))).toBeUndefined();
    // A request carrying unknown fields (read from a newer peer) is written by protobuf-es, which keeps them.
    const unknown = fromBinary(LinkRequestSchema, Buffer.from([0x0a, 0x03, 0x18, 0x05, 0x78, 0x01]));
    expect(encodeRequest(unknown)).toBeUndefined();
    const frame = toBinary(LinkResponseSchema, responses[1] as LinkResponse);
    // An unknown field inside the frame, a second body, unpacked frame ids, a field out of order.
    expect(decodeResponse(Buffer.from([0x0a, 0x02, 0x18, 0x01]))).toBeUndefined();
    expect(decodeResponse(Buffer.concat([frame, frame]))).toBeUndefined();
    expect(decodeResponse(Buffer.from([0x2a, 0x04, 0x10, 0x01, 0x10, 0x02]))).toBeUndefined();
    expect(decodeResponse(Buffer.from([0x0a, 0x06, 0x12, 0x01, 0x09, 0x0a, 0x01, 0x07]))).toBeUndefined();
    // A length past the end of its message.
    expect(decodeResponse(Buffer.from([0x0a, 0x03, 0x12, 0x05, 0x01]))).toBeUndefined();
  });

  it("never read past the end: every truncation of valid bytes is declined or read as protobuf-es reads it", () => {
    for (const response of [responses[1], responses[4], responses[5]] as LinkResponse[]) {
      const bytes = toBinary(LinkResponseSchema, response);
      for (let cut = 1; cut < bytes.length; cut++) {
        const truncated = bytes.subarray(0, cut);
        const decoded = decodeResponse(truncated);
        if (decoded !== undefined) expect(decoded).toStrictEqual(fromBinary(LinkResponseSchema, truncated));
      }
    }
  });
});
