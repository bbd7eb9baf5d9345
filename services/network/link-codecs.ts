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
import { WireWriter, hasUnknownFields, lengthFieldSize, varintSize } from "@jarvis/core";
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
  { schema: LinkRequestSchema, decode: decodeLinkRequest },
  { schema: LinkResponseSchema, encode: (message) => encodeLinkResponse(message as LinkResponse) },
];

const EMPTY = new Uint8Array(0);

/** A read position over one message's bytes; every read returns undefined past the end. */
class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  /** A varint of at most 7 bytes (below 2^49: a double holds it exactly). */
  varint(): number | undefined {
    let value = 0;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) return undefined;
      const byte = this.bytes[this.pos++] as number;
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return value;
    }
    return undefined;
  }
  /** A length-delimited field's [start, end), or undefined if it runs past the message. */
  span(): [number, number] | undefined {
    const length = this.varint();
    if (length === undefined || this.pos + length > this.end) return undefined;
    const start = this.pos;
    this.pos += length;
    return [start, this.pos];
  }
}

function decodeLinkRequest(bytes: Uint8Array): LinkRequest | undefined {
  const reader = new Reader(bytes, 0, bytes.length);
  let body: LinkRequest["body"] | undefined;
  while (reader.pos < reader.end) {
    const tag = reader.bytes[reader.pos++];
    const span = reader.span();
    // One oneof field, once: a repeated or merged body is protobuf-es's to resolve.
    if (span === undefined || body !== undefined) return undefined;
    if (tag === 0x0a) {
      const frame = decodeOutboundFrame(bytes, span[0], span[1]);
      if (!frame) return undefined;
      body = { case: "frame", value: frame };
    } else if (tag === 0x12) {
      const frames = decodeOutboundFrames(bytes, span[0], span[1]);
      if (!frames) return undefined;
      body = { case: "frames", value: { $typeName: OutboundFrameBatchSchema.typeName, frames } };
    } else {
      return undefined;
    }
  }
  return { $typeName: LinkRequestSchema.typeName, body: body ?? { case: undefined } };
}

function decodeOutboundFrames(bytes: Uint8Array, start: number, end: number): OutboundFrame[] | undefined {
  const reader = new Reader(bytes, start, end);
  const frames: OutboundFrame[] = [];
  while (reader.pos < reader.end) {
    if (reader.bytes[reader.pos++] !== 0x0a) return undefined;
    const span = reader.span();
    const frame = span && decodeOutboundFrame(bytes, span[0], span[1]);
    if (!frame) return undefined;
    frames.push(frame);
  }
  return frames;
}

function decodeOutboundFrame(bytes: Uint8Array, start: number, end: number): OutboundFrame | undefined {
  const frame: OutboundFrame = { $typeName: OutboundFrameSchema.typeName, publicKey: EMPTY, payload: EMPTY, frameId: 0n, channelId: 0n };
  const reader = new Reader(bytes, start, end);
  while (reader.pos < reader.end) {
    const tag = reader.bytes[reader.pos++];
    if (tag === 0x0a || tag === 0x12) {
      const span = reader.span();
      if (!span) return undefined;
      // A view, as protobuf-es's reader returns: the Link copies what it keeps.
      if (tag === 0x0a) frame.publicKey = bytes.subarray(span[0], span[1]);
      else frame.payload = bytes.subarray(span[0], span[1]);
    } else if (tag === 0x18 || tag === 0x20) {
      const value = reader.varint();
      if (value === undefined) return undefined;
      if (tag === 0x18) frame.frameId = BigInt(value);
      else frame.channelId = BigInt(value);
    } else {
      return undefined;
    }
  }
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
