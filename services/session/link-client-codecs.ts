import {
  FramesSentSchema,
  InboundFrameBatchSchema,
  InboundFrameSchema,
  LinkRequestSchema,
  LinkResponseSchema,
  type FramesSent,
  type InboundFrame,
  type LinkRequest,
  type LinkResponse,
  type OutboundFrame,
} from "@jarvis/proto/jarvis/network/v1/network_service";
import { WireReader, WireWriter, bigVarintSize, decline, hasUnknownFields, lengthFieldSize, readWire, varintSize } from "@jarvis/core";
import type { MessageCodec } from "@jarvis/rpc";

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
  { schema: LinkResponseSchema, decode: (bytes) => readWire(bytes, readLinkResponse) },
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

/** An InboundFrame, as a length-delimited field starting at r.pos. */
function readInboundFrame(r: WireReader): InboundFrame {
  const frame: InboundFrame = { $typeName: InboundFrameSchema.typeName, publicKey: EMPTY, payload: EMPTY };
  const outer = r.enter();
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    // Views, as protobuf-es's reader returns: the session copies what it keeps.
    if (tag === 0x0a) frame.publicKey = r.bytesView();
    else if (tag === 0x12) frame.payload = r.bytesView();
    else decline();
  }
  r.leave(outer);
  return frame;
}

function readInboundFrames(r: WireReader): InboundFrame[] {
  const frames: InboundFrame[] = [];
  const outer = r.enter();
  while (!r.atEnd) {
    // Repeated field 1 only: the same tag again and again.
    if (r.tag() !== 0x0a) decline();
    frames.push(readInboundFrame(r));
  }
  r.leave(outer);
  return frames;
}

/** FramesSent with its ids packed (as proto3 writes repeated scalars); unpacked ids decline. */
function readFramesSent(r: WireReader): FramesSent {
  const sent: FramesSent = { $typeName: FramesSentSchema.typeName, publicKey: EMPTY, frameIds: [] };
  const outer = r.enter();
  for (let tag = 0; !r.atEnd; ) {
    tag = r.tagAfter(tag);
    if (tag === 0x0a) {
      sent.publicKey = r.bytesView();
    } else if (tag === 0x12) {
      const idsOuter = r.enter();
      while (!r.atEnd) sent.frameIds.push(r.bigint());
      r.leave(idsOuter);
    } else {
      decline();
    }
  }
  r.leave(outer);
  return sent;
}

/** One body field, once: a repeated or merged oneof, or any other body, is protobuf-es's. */
function readLinkResponse(r: WireReader): LinkResponse {
  let body: LinkResponse["body"];
  const tag = r.tag();
  if (tag === 0x0a) body = { case: "frame", value: readInboundFrame(r) };
  else if (tag === 0x32) body = { case: "frames", value: { $typeName: InboundFrameBatchSchema.typeName, frames: readInboundFrames(r) } };
  else if (tag === 0x2a) body = { case: "framesSent", value: readFramesSent(r) };
  else return decline();
  if (!r.atEnd) decline();
  return { $typeName: LinkResponseSchema.typeName, body };
}
