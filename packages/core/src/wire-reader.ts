/**
 * The one bounded protobuf wire reader behind every hand-written decoder (the session's peer
 * envelopes, its server's send requests, its clients' answers and events, the network's Link
 * requests and the session's Link responses). Those decoders read only the few shapes they were written for and give anything
 * else back to protobuf-es, which reads it exactly (or reports the real error). Hostile-input
 * code: every length is checked against the end of its message before it is used, and nothing
 * is allocated by a length that has not been checked.
 *
 * Failure style: an exception. A read that meets anything unusual throws one preallocated
 * decline (no stack captured per throw) that `readWire`, the only place that catches it, turns
 * into `undefined`. Measured on the hot path against the same decoders over a flag-style reader
 * (a SendMessageRequest and a Subscribe message event, 1e6 decodes, alternated, 3 runs): 181–195
 * vs 182–197 ns and 690–727 vs 710–714 ns, so equal; the exception wins on safety and clarity —
 * no value read after a failure is ever used (a flag must be tested before each length is
 * trusted), and the decoders are plain loops with no flag test after each read and no callback
 * per field. Declines are rare on the hot path (an unknown field, another kind of event).
 */
export class WireReader {
  pos: number;
  /** The end of the message being read: a nested one's while inside it (`enter`/`leave`). */
  end: number;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /**
   * A one-byte tag: a field number 1–15 and its wire type, as `(field << 3) | wireType` — every
   * field the decoders know has one. A longer (or non-minimal) tag, or field 0, declines.
   */
  tag(): number {
    if (this.pos >= this.end) decline();
    const tag = this.bytes[this.pos++] as number;
    if (tag >= 0x80 || tag < 0x08) decline();
    return tag;
  }

  /**
   * The next field's tag, its field number above `lastTag`'s (0 for the first field): fields in
   * increasing order, as protobuf-es and our encoders write them. A repeated or reordered field
   * would need protobuf-es's merge rules, so it declines.
   */
  tagAfter(lastTag: number): number {
    const tag = this.tag();
    if (tag >>> 3 <= lastTag >>> 3) decline();
    return tag;
  }

  /**
   * A varint of at most 7 bytes (below 2^49, exact in a double). Longer ones — a negative
   * int32/int64 is 10 bytes — decline, so no value is ever rounded.
   */
  varint(): number {
    const bytes = this.bytes;
    let value = 0;
    for (let scale = 1, i = 0; i < 7; i++, scale *= 0x80) {
      if (this.pos >= this.end) decline();
      const byte = bytes[this.pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
    return decline();
  }

  /** An int32, uint32 or enum between 0 and 2^31 - 1; a larger or negative one declines. */
  int31(): number {
    const value = this.varint();
    if (value > 0x7fffffff) decline();
    return value;
  }

  /** An int64 or uint64 below 2^49 (see `varint`). */
  bigint(): bigint {
    return BigInt(this.varint());
  }

  /** A bool as protobuf-es writes it: one byte, 0 or 1. */
  bool(): boolean {
    if (this.pos >= this.end) decline();
    const byte = this.bytes[this.pos++];
    if (byte !== 0 && byte !== 1) decline();
    return byte === 1;
  }

  /** The end of the length-delimited field whose length starts here; it must end inside the message. */
  fieldEnd(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) decline();
    return end;
  }

  /**
   * A string field, strictly UTF-8 as protobuf-es reads proto3 strings (invalid UTF-8 declines,
   * and protobuf-es then reports it). Short ASCII strings — ids, uids, correlation ids, an ack's
   * up to 1,000 ids — are checked byte by byte and copied as Latin-1 (which ASCII is), skipping
   * TextDecoder's native call: measured 55–85 ns against 100–150 ns at up to 32 bytes, even at
   * 64, worse above. (String.fromCharCode.apply, used before, was slower than TextDecoder.)
   */
  string(): string {
    const end = this.fieldEnd();
    const start = this.pos;
    this.pos = end;
    const bytes = this.bytes;
    if (end - start <= SHORT_STRING) {
      let i = start;
      while (i < end && (bytes[i] as number) < 0x80) i++;
      if (i === end) return latin1Slice.call(bytes, start, end);
    }
    try {
      return strictUtf8.decode(bytes.subarray(start, end));
    } catch {
      return decline();
    }
  }

  /** A bytes field, as a view into the message (protobuf-es's reader returns a view too). */
  bytesView(): Uint8Array {
    const end = this.fieldEnd();
    const view = this.bytes.subarray(this.pos, end);
    this.pos = end;
    return view;
  }

  /**
   * Steps into the nested message whose length starts here: reads stop at its end until `leave`.
   * Returns the enclosing message's end, for `leave`.
   */
  enter(): number {
    const outer = this.end;
    this.end = this.fieldEnd();
    return outer;
  }

  /** Steps out of a nested message read to its end, back into the enclosing one. */
  leave(outerEnd: number): void {
    if (this.pos !== this.end) decline();
    this.end = outerEnd;
  }
}

const SHORT_STRING = 64;
// Buffer's own Latin-1 copy (what buf.toString("latin1") calls), applied to any Uint8Array; not
// in Node's typings, but present since Node's first Buffer — the tests here cover it.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

class WireDecline extends Error {
  constructor() {
    super("bytes outside what this hand-written decoder reads");
  }
}
const DECLINE = new WireDecline();

/** Gives up on the bytes: `readWire` returns undefined and the caller leaves them to protobuf-es. */
export function decline(): never {
  throw DECLINE;
}

/**
 * Reads `bytes` with `read` (a decoder's top-level function, not a closure made per call), or
 * returns undefined if it declined. Any other error is a bug and propagates.
 */
export function readWire<T>(bytes: Uint8Array, read: (reader: WireReader) => T): T | undefined {
  try {
    return read(new WireReader(bytes));
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  }
}
