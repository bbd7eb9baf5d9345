import { create, fromBinary, isMessage, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { asBuffer } from "./status-details.js";

/**
 * A hand-written encoder and/or decoder for one hot message type, producing exactly what
 * protobuf-es would (toBinary / fromBinary), only cheaper: protobuf-es walks the descriptor for
 * every field of every message, which cost a streamed SendMessages ~40 µs of the session's CPU
 * per message. Either may decline (return undefined) for anything it was not written for
 * (unknown fields, unusual wire types, invalid UTF-8); protobuf-es then does the work as before.
 */
export interface MessageCodec<M extends Message = Message> {
  schema: DescMessage;
  encode?: (message: M) => Uint8Array | undefined;
  decode?: (bytes: Uint8Array) => M | undefined;
}

export type MessageCodecs = ReadonlyMap<string, MessageCodec>;

export function codecsByType(codecs: readonly MessageCodec[] = []): MessageCodecs {
  return new Map(codecs.map((codec) => [codec.schema.typeName, codec]));
}

/** Handlers may return init shapes (`{}`); the wire needs the message itself. */
export function serializer(schema: DescMessage, codecs: MessageCodecs) {
  const encode = codecs.get(schema.typeName)?.encode;
  return (value: unknown) => {
    const message = isMessage(value, schema) ? value : create(schema, value as never);
    return asBuffer(encode?.(message) ?? toBinary(schema, message));
  };
}

export function deserializer(schema: DescMessage, codecs: MessageCodecs) {
  const decode = codecs.get(schema.typeName)?.decode;
  return (bytes: Buffer) => {
    // A Uint8Array view, not the Buffer: handlers get the same kind of bytes fields as from connect.
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return decode?.(view) ?? fromBinary(schema, view);
  };
}

/** For the client's own call paths: the codec's bytes when it has an encoder that accepts `message`. */
export function encodeMessage<M extends Message>(schema: DescMessage, codecs: MessageCodecs, message: M): Uint8Array {
  return codecs.get(schema.typeName)?.encode?.(message) ?? toBinary(schema, message);
}

export function decodeMessage(schema: DescMessage, codecs: MessageCodecs, bytes: Uint8Array): Message {
  return codecs.get(schema.typeName)?.decode?.(bytes) ?? fromBinary(schema, bytes);
}
