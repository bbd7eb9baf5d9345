import {
  LinkRequestSchema,
  LinkResponseSchema,
  OutboundFrameBatchSchema,
  OutboundFrameSchema,
  type InboundFrame,
  type LinkRequest,
  type LinkResponse,
  type OutboundFrame,
} from "@jarvis/proto/jarvis/network/v1/network_service";
import { WireReader, WireWriter, decline, hasUnknownFields, lengthFieldSize, readWire, varintSize } from "@jarvis/core";
import type { MessageCodec } from "@jarvis/rpc";

/**
 * Hand-written codecs for the Link's per-frame messages, the network's hottest: every frame a
 * session sends (LinkRequest frame/frames) and every frame, batch and FramesSent report it gets
 * back (LinkResponse frame/frames/frames_sent). At one message at a time each lone message
 * crosses three of these per network process, and protobuf-es's descriptor walk was a visible
 * share of that. Same bytes and messages as protobuf-es (link-codecs.test.ts checks both ways);
 * anything else — options, connect/disconnect/drop events, unknown fields, odd wire types,
 * frame ids beyond 2^49 — is declined (undefined) and left to protobuf-es.
 */
export const LINK_CODECS: readonly MessageCodec[] = [
  { schema: LinkRequestSchema, decode: (bytes) => readWire(bytes, readLinkRequest) },
  { schema: LinkResponseSchema, encode: (message) => encodeLinkResponse(message as LinkResponse) },
];

const EMPTY = new Uint8Array(0);

function readLinkRequest(r: WireReader): LinkRequest {
  let body: LinkRequest["body"] | undefined;
  while (!r.atEnd) {
    const tag = r.tag();
    // One oneof field, once: a repeated or merged body is protobuf-es's to resolve.
    if (body !== undefined) decline();
    if (tag === 0x0a) body = { case: "frame", value: readOutboundFrame(r) };
    else if (tag === 0x12) body = { case: "frames", value: { $typeName: OutboundFrameBatchSchema.typeName, frames: readOutboundFrames(r) } };
    else decline();
  }
  return { $typeName: LinkRequestSchema.typeName, body: body ?? { case: undefined } };
}

function readOutboundFrames(r: WireReader): OutboundFrame[] {
  const frames: OutboundFrame[] = [];
  const outer = r.enter();
  while (!r.atEnd) {
    if (r.tag() !== 0x0a) decline();
    frames.push(readOutboundFrame(r));
  }
  r.leave(outer);
  return frames;
}

function readOutboundFrame(r: WireReader): OutboundFrame {
  const frame: OutboundFrame = { $typeName: OutboundFrameSchema.typeName, publicKey: EMPTY, payload: EMPTY, frameId: 0n, channelId: 0n };
  const outer = r.enter();
  while (!r.atEnd) {
    // Views, as protobuf-es's reader returns: the Link copies what it keeps.
    switch (r.tag()) {
      case 0x0a: frame.publicKey = r.bytesView(); break;
      case 0x12: frame.payload = r.bytesView(); break;
      case 0x18: frame.frameId = r.bigint(); break;
      case 0x20: frame.channelId = r.bigint(); break;
      default: decline();
    }
  }
  r.leave(outer);
  return frame;
}

const MAX_ID = 2n ** 49n;
/** A message field's bytes with its one-byte tag (written even when empty). */
const messageFieldSize = (size: number): number => 1 + varintSize(size) + size;
const inboundFrameSize = (frame: InboundFrame): number => lengthFieldSize(frame.publicKey.length) + lengthFieldSize(frame.payload.length);

/** An InboundFrame as a message field: public key, then payload. */
function writeInboundFrame(writer: WireWriter, tag: number, frame: InboundFrame): void {
  writer.header(tag, inboundFrameSize(frame));
  writer.bytes(0x0a, frame.publicKey);
  writer.bytes(0x12, frame.payload);
}

function encodeLinkResponse(message: LinkResponse): Uint8Array | undefined {
  if (hasUnknownFields(message)) return undefined;
  const { body } = message;
  switch (body.case) {
    case "frame": {
      if (hasUnknownFields(body.value)) return undefined;
      const writer = new WireWriter(messageFieldSize(inboundFrameSize(body.value)));
      writeInboundFrame(writer, 0x0a, body.value);
      return writer.done();
    }
    case "frames": {
      if (hasUnknownFields(body.value) || body.value.frames.some(hasUnknownFields)) return undefined;
      let size = 0;
      for (const frame of body.value.frames) size += messageFieldSize(inboundFrameSize(frame));
      const writer = new WireWriter(messageFieldSize(size));
      writer.header(0x32, size);
      for (const frame of body.value.frames) writeInboundFrame(writer, 0x0a, frame);
      return writer.done();
    }
    case "framesSent": {
      const { publicKey, frameIds } = body.value;
      if (hasUnknownFields(body.value) || frameIds.some((id) => id < 0n || id >= MAX_ID)) return undefined;
      const ids = frameIds.map(Number);
      let idBytes = 0;
      for (const id of ids) idBytes += varintSize(id);
      // proto3 packs repeated scalars: one length-delimited field (left out when empty).
      const size = lengthFieldSize(publicKey.length) + (ids.length === 0 ? 0 : 1 + varintSize(idBytes) + idBytes);
      const writer = new WireWriter(messageFieldSize(size));
      writer.header(0x2a, size);
      writer.bytes(0x0a, publicKey);
      if (ids.length > 0) {
        writer.header(0x12, idBytes);
        for (const id of ids) writer.varint(id);
      }
      return writer.done();
    }
    default:
      return undefined;
  }
}
