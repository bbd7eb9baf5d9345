/**
 * The protobuf wire primitives the hand-written codecs share (the gRPC codecs of
 * @jarvis/rpc message-codecs.ts and the peer envelopes in the session): sizes are
 * computed first, then the message is written into one exact buffer, with none of the
 * intermediate chunks protobuf-es's BinaryWriter makes. Only one-byte tags (fields 1–15).
 */
export class WireWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(value: number): void {
    while (value > 0x7f) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
  }

  bigVarint(value: bigint): void {
    // Positions and seconds fit a double: number arithmetic is several times cheaper than bigint.
    if (value <= MAX_SAFE) return this.varint(Number(value));
    while (value > 0x7fn) {
      this.buf[this.pos++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buf[this.pos++] = Number(value);
  }

  /** A length-delimited field's tag and length; its content follows. */
  header(tag: number, length: number): void {
    this.buf[this.pos++] = tag;
    this.varint(length);
  }

  /** A varint field (the caller leaves out 0, as proto3 does). */
  tagged(tag: number, value: number): void {
    this.buf[this.pos++] = tag;
    this.varint(value);
  }

  bool(tag: number): void {
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = 1;
  }

  /** A string field of `length` UTF-8 bytes (left out when empty). */
  string(tag: number, value: string, length: number): void {
    if (value === "") return;
    this.header(tag, length);
    this.pos += this.buf.write(value, this.pos, length, "utf8");
  }

  /** A bytes field (left out when empty). */
  bytes(tag: number, value: Uint8Array): void {
    if (value.length === 0) return;
    this.header(tag, value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** The bytes, if they came out exactly the size computed (else protobuf-es encodes instead). */
  done(): Buffer | undefined {
    return this.pos === this.buf.length ? this.buf : undefined;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function varintSize(value: number): number {
  let size = 1;
  for (; value >= 0x80; size++) value = Math.floor(value / 0x80);
  return size;
}

export const bigVarintSize = (value: bigint): number => (value <= MAX_SAFE ? varintSize(Number(value)) : 1 + bigVarintSize(value >> 7n));

/** A string or bytes field of `length` bytes with its one-byte tag; 0 when empty (proto3 leaves it out). */
export const lengthFieldSize = (length: number): number => (length === 0 ? 0 : 1 + varintSize(length) + length);

/** Whether protobuf-es kept unknown fields on a message (a hand-written codec then declines). */
export const hasUnknownFields = (message: object): boolean => ((message as { $unknown?: unknown[] }).$unknown?.length ?? 0) > 0;
