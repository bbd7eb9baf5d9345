import {
  FramesSentSchema,
  InboundFrameBatchSchema,
  InboundFrameSchema,
  LinkRequestSchema,
  LinkResponseSchema,
  type InboundFrame,
  type LinkRequest,
  type LinkResponse,
  type OutboundFrame,
} from "@jarvis/proto/jarvis/network/v1/network_service";
import { WireWriter, bigVarintSize, hasUnknownFields, lengthFieldSize, varintSize } from "@jarvis/core";
import type { MessageCodec } from "@jarvis/rpc";
import { WireReader } from "./wire-reader.js";

/**
 * The session's side of the network's link-codecs.ts: it encodes the Link requests the network
 * decodes by hand (a frame, a batch of frames) and decodes the Link responses the network
 * encodes by hand (a received frame, a batch of them, a FramesSent report). Every message
 * crosses the Link twice, once out of the sender's session and once into the receiver's, and
 * protobuf-es's reflection was most of the session's Link cost per frame. Same rules as the
 * other hand-written codecs: exactly protobuf-es's bytes and messages (link-client-codecs.test.ts
 * compares both ways and against the network's codecs); anything else — options, peer events,
 * drops, unknown or repeated fields, unpacked ids, ids from 2^49 up — is declined (undefined)
 * and protobuf-es does the work.
 */
export const LINK_CLIENT_CODECS: readonly MessageCodec[] = [
  { schema: LinkRequestSchema, encode: (message) => encodeLinkRequest(message as LinkRequest) },
  { schema: LinkResponseSchema, decode: (bytes) => decodeLinkResponse(new WireReader(bytes)) },
];

/**
 * How the session's transport to its network is made: these codecs, and the Link on the lean
 * bidi path (packages/rpc bidi-call.ts), whose kill -9 and shutdown cases are in
 * client-restart.test.ts.
 */
export const LINK_CLIENT_TUNING = { codecs: LINK_CLIENT_CODECS, leanBidi: true } as const;

/** Frame ids (and channel ids) from 2^49 up are protobuf-es's: the reader takes 7-byte varints. */
const MAX_ID = 2n ** 49n;
const EMPTY: Uint8Array = new Uint8Array(0);

const idFieldSize = (id: bigint): number => (id === 0n ? 0 : 1 + bigVarintSize(id));
const outboundFrameSize = (frame: OutboundFrame): number =>
  lengthFieldSize(frame.publicKey.length) + lengthFieldSize(frame.payload.length) + idFieldSize(frame.frameId) + idFieldSize(frame.channelId);
/** A message field's bytes with its one-byte tag (written even when the message is empty). */
const messageFieldSize = (size: number): number => 1 + varintSize(size) + size;

function writeOutboundFrame(writer: WireWriter, tag: number, frame: OutboundFrame, size: number): void {
  writer.header(tag, size);
  writer.bytes(0x0a, frame.publicKey);
  writer.bytes(0x12, frame.payload);
  if (frame.frameId !== 0n) writer.tagged(0x18, Number(frame.frameId));
  if (frame.channelId !== 0n) writer.tagged(0x20, Number(frame.channelId));
}

const plainFrame = (frame: OutboundFrame): boolean =>
  !hasUnknownFields(frame) && frame.frameId >= 0n && frame.frameId < MAX_ID && frame.channelId >= 0n && frame.channelId < MAX_ID;

function encodeLinkRequest(message: LinkRequest): Uint8Array | undefined {
  if (hasUnknownFields(message)) return undefined;
  const { body } = message;
  if (body.case === "frame") {
    if (!plainFrame(body.value)) return undefined;
    const size = outboundFrameSize(body.value);
    const writer = new WireWriter(messageFieldSize(size));
    writeOutboundFrame(writer, 0x0a, body.value, size);
    return writer.done();
  }
  if (body.case === "frames") {
    const { frames } = body.value;
    if (hasUnknownFields(body.value) || !frames.every(plainFrame)) return undefined;
    const sizes = frames.map(outboundFrameSize);
    const batchSize = sizes.reduce((sum, size) => sum + messageFieldSize(size), 0);
    const writer = new WireWriter(messageFieldSize(batchSize));
    writer.header(0x12, batchSize);
    frames.forEach((frame, i) => writeOutboundFrame(writer, 0x0a, frame, sizes[i] as number));
    return writer.done();
  }
  return undefined;
}

/** A bytes field as a view (as protobuf-es's reader returns); the caller copies what it keeps. */
function readBytes(r: WireReader): Uint8Array {
  const end = r.lengthEnd();
  if (end < 0) return EMPTY;
  const value = r.bytes.subarray(r.pos, end);
  r.pos = end;
  return value;
}

/**
 * Reads the fields of one message up to `end`, each field number above the last (as protobuf-es
 * and the network's codecs write them); `field` returns false for a tag it does not know.
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

/** An InboundFrame field starting at r.pos (after its tag). */
function readInboundFrame(r: WireReader): InboundFrame | undefined {
  const end = r.lengthEnd();
  if (end < 0) return undefined;
  const frame: InboundFrame = { $typeName: InboundFrameSchema.typeName, publicKey: EMPTY, payload: EMPTY };
  const ok = readFields(r, end, (tag) => {
    if (tag === 0x0a) frame.publicKey = readBytes(r);
    else if (tag === 0x12) frame.payload = readBytes(r);
    else return false;
    return true;
  });
  return ok ? frame : undefined;
}

function readInboundFrames(r: WireReader): InboundFrame[] | undefined {
  const end = r.lengthEnd();
  if (end < 0) return undefined;
  const frames: InboundFrame[] = [];
  while (r.pos < end) {
    // Repeated field 1 only: the same tag again and again, so not readFields' ascending rule.
    if (r.tag() !== 0x0a || r.failed) return undefined;
    const frame = readInboundFrame(r);
    if (!frame) return undefined;
    frames.push(frame);
  }
  return r.pos === end ? frames : undefined;
}

/** FramesSent with its ids packed (as proto3 writes repeated scalars); unpacked ids decline. */
function readFramesSent(r: WireReader): { publicKey: Uint8Array; frameIds: bigint[] } | undefined {
  const end = r.lengthEnd();
  if (end < 0) return undefined;
  let publicKey = EMPTY;
  const frameIds: bigint[] = [];
  const ok = readFields(r, end, (tag) => {
    if (tag === 0x0a) {
      publicKey = readBytes(r);
      return true;
    }
    if (tag !== 0x12) return false;
    const idsEnd = r.lengthEnd();
    while (idsEnd >= 0 && r.pos < idsEnd && !r.failed) frameIds.push(BigInt(r.varint()));
    return !r.failed && r.pos === idsEnd;
  });
  return ok ? { publicKey, frameIds } : undefined;
}

function decodeLinkResponse(r: WireReader): LinkResponse | undefined {
  // One body field, once: a repeated or merged oneof is protobuf-es's to resolve.
  if (r.atEnd) return undefined;
  const tag = r.tag();
  let body: LinkResponse["body"] | undefined;
  if (tag === 0x0a) {
    const frame = readInboundFrame(r);
    body = frame && { case: "frame", value: frame };
  } else if (tag === 0x32) {
    const frames = readInboundFrames(r);
    body = frames && { case: "frames", value: { $typeName: InboundFrameBatchSchema.typeName, frames } };
  } else if (tag === 0x2a) {
    const sent = readFramesSent(r);
    body = sent && { case: "framesSent", value: { $typeName: FramesSentSchema.typeName, ...sent } };
  }
  if (!body || r.failed || !r.atEnd) return undefined;
  return { $typeName: LinkResponseSchema.typeName, body };
}
