import { describe, expect, it } from "vitest";
import { WireReader, decline, readWire } from "./wire-reader.js";
import { WireWriter, varintSize } from "./wire-writer.js";

// The reader the hand-written decoders share: exact where it reads, and a decline (undefined
// from readWire) for everything else — never a misread, never a read past an end.

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads one value with `read` and requires the bytes to be used up. */
function readAll<T>(bytes: Uint8Array, read: (r: WireReader) => T): T | undefined {
  return readWire(bytes, (r) => {
    const value = read(r);
    if (!r.atEnd) throw new Error(`left ${r.end - r.pos} bytes`);
    return value;
  });
}

function varintBytes(value: number): Uint8Array {
  const w = new WireWriter(varintSize(value));
  w.varint(value);
  return w.buf;
}

/** A length-delimited field with a one-byte tag. */
const lengthField = (tag: number, content: Uint8Array): Uint8Array => Uint8Array.from([tag, ...varintBytes(content.length), ...content]);

const readString = (r: WireReader) => r.string();

describe("WireReader varints", () => {
  it("reads every length up to 7 bytes exactly, below 2^49", () => {
    for (const value of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 35 + 7, 2 ** 42 + 1, 2 ** 49 - 1]) {
      expect(readAll(varintBytes(value), (r) => r.varint()), `${value}`).toBe(value);
      expect(readAll(varintBytes(value), (r) => r.bigint())).toBe(BigInt(value));
    }
  });

  it("declines 8 bytes or more (a negative number is 10), rather than round", () => {
    expect(readAll(varintBytes(2 ** 49), (r) => r.varint())).toBeUndefined();
    expect(readAll(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), (r) => r.varint())).toBeUndefined();
    // Non-minimal, but 8 bytes: declined too (protobuf-es reads such bytes).
    expect(readAll(Uint8Array.from([0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), (r) => r.varint())).toBeUndefined();
    // Non-minimal within 7 bytes: the same value protobuf-es reads.
    expect(readAll(Uint8Array.from([0x81, 0x80, 0x00]), (r) => r.varint())).toBe(1);
  });

  it("declines every truncation", () => {
    const bytes = varintBytes(2 ** 48 + 12_345);
    for (let cut = 0; cut < bytes.length; cut++) expect(readWire(bytes.subarray(0, cut), (r) => r.varint()), `cut ${cut}`).toBeUndefined();
  });

  it("reads int31 up to 2^31 - 1 and declines above", () => {
    expect(readAll(varintBytes(0x7fffffff), (r) => r.int31())).toBe(0x7fffffff);
    expect(readAll(varintBytes(0x80000000), (r) => r.int31())).toBeUndefined();
  });

  it("reads bools as protobuf-es writes them (one byte, 0 or 1) and declines anything else", () => {
    expect(readAll(Uint8Array.of(1), (r) => r.bool())).toBe(true);
    expect(readAll(Uint8Array.of(0), (r) => r.bool())).toBe(false);
    expect(readAll(Uint8Array.of(2), (r) => r.bool())).toBeUndefined();
    expect(readAll(Uint8Array.of(0x81, 0x00), (r) => r.bool())).toBeUndefined();
    expect(readWire(new Uint8Array(0), (r) => r.bool())).toBeUndefined();
  });
});

describe("WireReader tags", () => {
  it("reads one-byte tags: field number and wire type", () => {
    for (const [field, wireType] of [[1, 0], [1, 2], [5, 2], [15, 5], [2, 1]]) {
      const tag = readAll(Uint8Array.of((field! << 3) | wireType!), (r) => r.tag()) as number;
      expect([tag >>> 3, tag & 7]).toEqual([field, wireType]);
    }
  });

  it("declines field 0, two-byte tags (field 16 and up, or a non-minimal one) and a missing tag", () => {
    for (const tag of [0x00, 0x02, 0x07]) expect(readWire(Uint8Array.of(tag), (r) => r.tag())).toBeUndefined();
    expect(readWire(Uint8Array.of(0x82, 0x01), (r) => r.tag())).toBeUndefined(); // field 16
    expect(readWire(Uint8Array.of(0x8a, 0x00), (r) => r.tag())).toBeUndefined(); // field 1, padded
    expect(readWire(new Uint8Array(0), (r) => r.tag())).toBeUndefined();
  });

  it("tagAfter reads fields in increasing order only: a repeated or earlier field declines", () => {
    // Fields 1, 2 and 5 (varints of 0): each after the last.
    const inOrder = Uint8Array.of(0x08, 0x00, 0x10, 0x00, 0x28, 0x00);
    expect(readAll(inOrder, (r) => [r.tagAfter(0), r.varint(), r.tagAfter(0x08), r.varint(), r.tagAfter(0x10), r.varint()])).toEqual([0x08, 0, 0x10, 0, 0x28, 0]);
    // The same field again (another wire type too), and an earlier one.
    expect(readWire(Uint8Array.of(0x10), (r) => r.tagAfter(0x10))).toBeUndefined();
    expect(readWire(Uint8Array.of(0x12), (r) => r.tagAfter(0x10))).toBeUndefined();
    expect(readWire(Uint8Array.of(0x08), (r) => r.tagAfter(0x10))).toBeUndefined();
  });
});

describe("WireReader lengths", () => {
  it("checks every length against the end before using it, allocating nothing by it", () => {
    // 2^48 bytes promised, 3 present.
    expect(readWire(Uint8Array.from([...varintBytes(2 ** 48), 1, 2, 3]), readString)).toBeUndefined();
    expect(readWire(Uint8Array.from([...varintBytes(2 ** 48), 1, 2, 3]), (r) => r.bytesView())).toBeUndefined();
    expect(readWire(Uint8Array.from([4, 0x61, 0x62, 0x63]), readString)).toBeUndefined();
    expect(readAll(Uint8Array.from([3, 0x61, 0x62, 0x63]), readString)).toBe("abc");
  });

  it("declines every truncation of a string or bytes field, short or long", () => {
    for (const length of [0, 5, 64, 300]) {
      const bytes = Uint8Array.from([...varintBytes(length), ...new Uint8Array(length).fill(0x61)]);
      expect(readAll(bytes, readString)).toBe("a".repeat(length));
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(readWire(bytes.subarray(0, cut), readString), `${length}: cut ${cut}`).toBeUndefined();
        expect(readWire(bytes.subarray(0, cut), (r) => r.bytesView())).toBeUndefined();
      }
    }
  });

  it("returns bytes as a view into the message, as protobuf-es does", () => {
    const bytes = Uint8Array.from([3, 7, 8, 9, 0xff]);
    const view = readWire(bytes, (r) => r.bytesView()) as Uint8Array;
    expect([...view]).toEqual([7, 8, 9]);
    expect(view.buffer).toBe(bytes.buffer);
    expect(view.byteOffset).toBe(1);
  });

  it("confines reads to a nested message between enter and leave", () => {
    // { 1: "ab", 2: { 1: "cd" }, 3: "ef" } as field 1 string, field 2 message, field 3 string.
    const nested = lengthField(0x0a, Buffer.from("cd"));
    const bytes = Uint8Array.from([...lengthField(0x0a, Buffer.from("ab")), ...lengthField(0x12, nested), ...lengthField(0x1a, Buffer.from("ef"))]);
    const read = (r: WireReader) => {
      const values: string[] = [];
      while (!r.atEnd) {
        if (r.tag() === 0x12) {
          const outer = r.enter();
          while (!r.atEnd) values.push(`${r.tag()}:${r.string()}`);
          r.leave(outer);
        } else values.push(r.string());
      }
      return values;
    };
    expect(readWire(bytes, read)).toEqual(["ab", "10:cd", "ef"]);
    // A nested field whose length runs past its message's end (but not past the bytes) declines.
    const overrun = Uint8Array.from([0x12, 3, 0x0a, 4, 0x61, 0x62, 0x63, 0x64]);
    expect(readWire(overrun, read)).toBeUndefined();
    // A nested message longer than what is left of the bytes declines at enter.
    expect(readWire(Uint8Array.from([0x12, 9, 0x0a, 0]), read)).toBeUndefined();
  });

  it("declines leaving a nested message before its end", () => {
    const bytes = Uint8Array.from([0x12, 2, 0x08, 0x01]);
    expect(
      readWire(bytes, (r) => {
        r.tag();
        const outer = r.enter();
        return r.leave(outer);
      }),
    ).toBeUndefined();
  });
});

describe("WireReader strings", () => {
  const field = (content: Uint8Array) => Uint8Array.from([...varintBytes(content.length), ...content]);

  it("reads ASCII of every length around the short-string path exactly as TextDecoder does", () => {
    const ascii = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
    for (let length = 0; length <= 130; length++) {
      const content = Uint8Array.from({ length }, (_, i) => ascii[(i * 37 + length) % 128] as number);
      expect(readAll(field(content), readString), `${length}`).toBe(strictUtf8.decode(content));
    }
  });

  it("reads strings out of a Buffer and out of a plain Uint8Array view with an offset alike", () => {
    const bytes = Buffer.from([0xee, 0xee, ...field(Buffer.from("0190f3a2b4c5d6e7")), ...field(Buffer.from("héllo ✓ 🚀"))]);
    const view = new Uint8Array(new Uint8Array(bytes).buffer, 2);
    for (const input of [bytes.subarray(2), view]) {
      expect(readAll(input, (r) => [r.string(), r.string()])).toEqual(["0190f3a2b4c5d6e7", "héllo ✓ 🚀"]);
    }
  });

  it("reads multi-byte UTF-8, short and long, as TextDecoder does (a leading BOM included)", () => {
    for (const text of ["ü", "€😀", "ü€😀".repeat(3000), "\uFEFFbom", "a\u0000b"]) {
      const content = Buffer.from(text, "utf8");
      expect(readAll(field(content), readString)).toBe(strictUtf8.decode(content));
    }
  });

  it("declines invalid UTF-8, short and long, which protobuf-es then reports", () => {
    const invalid = [
      [0xc3, 0x28], // a bad continuation
      [0xff], // never valid
      [0xc0, 0x80], // overlong NUL
      [0xed, 0xa0, 0x80], // a surrogate
      [0xf0, 0x9f, 0x98], // truncated four-byte sequence
      [...Buffer.from("x".repeat(100)), 0x80], // long, with a stray continuation byte at the end
    ];
    for (const bytes of invalid) {
      expect(() => strictUtf8.decode(Uint8Array.from(bytes))).toThrow();
      expect(readWire(field(Uint8Array.from(bytes)), readString), `${bytes.slice(-3).join(",")}`).toBeUndefined();
    }
  });
});

describe("readWire", () => {
  it("returns what the reader returned, or undefined when it declined", () => {
    expect(readWire(Uint8Array.of(1), (r) => r.varint())).toBe(1);
    expect(readWire(Uint8Array.of(1), () => decline())).toBeUndefined();
  });

  it("lets any other error through: a bug is not a decline", () => {
    expect(() =>
      readWire(Uint8Array.of(1), () => {
        throw new RangeError("a bug");
      }),
    ).toThrow(RangeError);
  });

  it("starts each read afresh, at 0, to the end of the bytes", () => {
    const bytes = Uint8Array.of(0x08, 0x96, 0x01);
    const read = (r: WireReader) => [r.pos, r.end, r.tag(), r.varint()];
    expect(readWire(bytes, read)).toEqual([0, 3, 0x08, 150]);
    expect(readWire(bytes, read)).toEqual([0, 3, 0x08, 150]);
  });
});
