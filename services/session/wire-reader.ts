/**
 * A bounded protobuf wire reader for the client's hand-written decoders (client-codecs.ts).
 * Hostile-input code: every length is checked against the end of its message, and anything
 * outside the narrow shapes the decoders accept makes it return undefined / set `failed`, so
 * the caller declines and protobuf-es reads the bytes instead (and reports any real error).
 */
export class WireReader {
  failed = false;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of at most 7 bytes (49 bits, exact in a double); longer ones are declined. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) break;
      const byte = this.bytes[this.pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    this.failed = true;
    return 0;
  }

  /** A one-byte tag; fields above 15 (two-byte tags) are none of ours, so they decline. */
  tag(): number {
    const tag = this.bytes[this.pos++] as number;
    if (tag >= 0x80) this.failed = true;
    return tag;
  }

  /** The end of a length-delimited field starting here, or -1 if it overruns its message. */
  lengthEnd(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (this.failed || end > this.end) {
      this.failed = true;
      return -1;
    }
    return end;
  }

  string(): string {
    const end = this.lengthEnd();
    if (end < 0) return "";
    try {
      const value = strictUtf8.decode(this.bytes.subarray(this.pos, end));
      this.pos = end;
      return value;
    } catch {
      this.failed = true;
      return "";
    }
  }

  /** A bool written as protobuf-es writes it (one byte, 0 or 1). */
  bool(): boolean {
    const byte = this.bytes[this.pos++];
    if (this.pos > this.end || (byte !== 0 && byte !== 1)) this.failed = true;
    return byte === 1;
  }

  /** A non-negative int32/enum/uint32 below 2^31 (negative ones are 10-byte varints: declined). */
  int31(): number {
    const value = this.varint();
    if (value > 0x7fffffff) this.failed = true;
    return value;
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
