import { describe, expect, it } from "vitest";
import { decodeControlChunk, encodeControlChunk } from "./control.js";
import { FrameError } from "./frame-error.js";
import type { FrameErrorCode } from "./frame-error.js";
import { decodePacked, encodePacked, FLAG_PACKED, MAX_PACKED_PLAINTEXT, packedLength } from "./packing.js";
import { expectErrorCode } from "../../../../test/helpers/assertions.js";

const expectFrameError = (action: () => unknown, code: FrameErrorCode) => expectErrorCode(action, FrameError, code);

/** Builds a packed plaintext by hand, entry by entry, with whatever lengths a hostile peer likes. */
function handPacked(entries: { length: number; bytes: Buffer }[]): Buffer {
  return Buffer.concat([
    Buffer.from([FLAG_PACKED]),
    ...entries.map(({ length, bytes }) => {
      const header = Buffer.alloc(2);
      header.writeUInt16BE(length);
      return Buffer.concat([header, bytes]);
    }),
  ]);
}

describe("packed transport messages", () => {
  it("round-trips many chunks of mixed kinds, in order, byte for byte", () => {
    const chunks = Array.from({ length: 300 }, (_, i) => {
      if (i % 50 === 7) return encodeControlChunk({ kind: "ping", nonce: BigInt(i) });
      const chunk = Buffer.alloc(1 + (i % 97), i & 0xff);
      chunk[0] = i % 3 === 0 ? 0x01 : 0x00;
      return chunk;
    });
    const packed = encodePacked(chunks);
    expect(packed.length).toBe(packedLength(chunks.map((c) => c.length)));
    expect(decodePacked(packed)).toEqual(chunks);
  });

  it("fills exactly one Noise message at most, and refuses anything bigger or empty", () => {
    const largest = [Buffer.alloc(MAX_PACKED_PLAINTEXT - 1 - 2, 0)];
    expect(encodePacked(largest)).toHaveLength(MAX_PACKED_PLAINTEXT);
    expect(MAX_PACKED_PLAINTEXT + 16).toBe(65535);
    expect(() => encodePacked([Buffer.alloc(MAX_PACKED_PLAINTEXT - 2, 0)])).toThrow(RangeError);
    expect(() => encodePacked([])).toThrow(RangeError);
    expect(() => encodePacked([Buffer.alloc(0)])).toThrow(RangeError);
    expect(() => encodePacked([Buffer.from([FLAG_PACKED, 0, 1, 0])])).toThrow(RangeError);
  });

  it.each([
    ["no chunk at all", Buffer.from([FLAG_PACKED])],
    ["a length cut in half", Buffer.from([FLAG_PACKED, 0x00])],
    ["an empty chunk", handPacked([{ length: 0, bytes: Buffer.alloc(0) }])],
    ["a chunk running past the end", handPacked([{ length: 10, bytes: Buffer.from([0x00, 1, 2]) }])],
    ["a packed message inside a packed message", handPacked([{ length: 3, bytes: Buffer.from([FLAG_PACKED, 0, 0]) }])],
    ["a good chunk followed by a torn one", handPacked([{ length: 2, bytes: Buffer.from([0x00, 9]) }, { length: 5, bytes: Buffer.from([0x00]) }])],
  ])("refuses %s with bad-chunk, returning none of its chunks", (_name, plaintext) => {
    expectFrameError(() => decodePacked(plaintext), "bad-chunk");
  });

  it("announces features in a control chunk; unknown bits and trailing bytes are ignored, an empty body is refused", () => {
    expect(decodeControlChunk(encodeControlChunk({ kind: "features", packing: true }))).toEqual({ kind: "features", packing: true });
    expect(decodeControlChunk(encodeControlChunk({ kind: "features", packing: false }))).toEqual({ kind: "features", packing: false });
    expect(decodeControlChunk(Buffer.from([0x02, 0x04, 0xff, 0x12, 0x34]))).toEqual({ kind: "features", packing: true });
    expect(decodeControlChunk(Buffer.from([0x02, 0x04, 0xfe]))).toEqual({ kind: "features", packing: false });
    expectFrameError(() => decodeControlChunk(Buffer.from([0x02, 0x04])), "bad-control");
  });
});
