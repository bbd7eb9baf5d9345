import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { MAX_CHUNK_DATA, Reassembler, splitPayload } from "./chunking.js";
import { FrameError } from "./frame-error.js";
import type { FrameErrorCode } from "./frame-error.js";
import { expectErrorCode } from "../../../../test/helpers/assertions.js";

const expectFrameError = (action: () => unknown, code: FrameErrorCode) => expectErrorCode(action, FrameError, code);

function reassemble(chunks: Buffer[], maxPayloadBytes: number): Buffer | undefined {
  const reassembler = new Reassembler({ maxPayloadBytes });
  let result: Buffer | undefined;
  chunks.forEach((chunk, index) => {
    const output = reassembler.push(chunk);
    // Only the final chunk may produce the payload.
    expect(output === undefined, `chunk ${index}`).toBe(index < chunks.length - 1);
    result = output;
  });
  return result;
}

describe("chunking", () => {
  it("sizes chunks so flag + data + AEAD tag fill exactly one 65535-byte Noise message", () => {
    expect(MAX_CHUNK_DATA).toBe(65518);
  });

  it("represents an empty payload as one final chunk without data", () => {
    expect(splitPayload(Buffer.alloc(0))).toEqual([Buffer.from([0x00])]);
  });

  it.each([
    { size: 0, chunks: 1 },
    { size: 1, chunks: 1 },
    { size: MAX_CHUNK_DATA, chunks: 1 },
    { size: MAX_CHUNK_DATA + 1, chunks: 2 },
    { size: 1024 * 1024, chunks: Math.ceil((1024 * 1024) / MAX_CHUNK_DATA) },
  ])("round-trips a $size-byte payload through $chunks chunk(s)", ({ size, chunks }) => {
    const payload = randomBytes(size);
    const split = splitPayload(payload);
    expect(split).toHaveLength(chunks);
    split.forEach((chunk, index) => {
      expect(chunk[0]).toBe(index === split.length - 1 ? 0x00 : 0x01);
      expect(chunk.length).toBeLessThanOrEqual(1 + MAX_CHUNK_DATA);
    });
    const result = reassemble(split, size);
    expect(result).toHaveLength(size);
    // Buffer.equals rather than toEqual: a deep diff of 1 MiB is needlessly slow.
    expect(result?.equals(payload)).toBe(true);
  });

  it("honours a smaller chunk size and rejects impossible ones", () => {
    const split = splitPayload(Buffer.from("abcdefg"), 3);
    expect(split.map((chunk) => chunk.toString("latin1", 1))).toEqual(["abc", "def", "g"]);
    expect(() => splitPayload(Buffer.from("x"), 0)).toThrow(RangeError);
    expect(() => splitPayload(Buffer.from("x"), MAX_CHUNK_DATA + 1)).toThrow(RangeError);
  });

  it("reassembles consecutive payloads independently", () => {
    const reassembler = new Reassembler({ maxPayloadBytes: 10 });
    for (const text of ["first", "second!", ""]) {
      let output: Buffer | undefined;
      for (const chunk of splitPayload(Buffer.from(text), 2)) output = reassembler.push(chunk);
      expect(output?.toString()).toBe(text);
      expect(reassembler.bufferedBytes).toBe(0);
    }
  });

  it("rejects a payload as soon as it passes the cap, without waiting for the final chunk", () => {
    const reassembler = new Reassembler({ maxPayloadBytes: 100 });
    const chunks = splitPayload(Buffer.alloc(10_000), 60);
    expect(reassembler.push(chunks[0] ?? Buffer.alloc(0))).toBeUndefined();
    expect(reassembler.bufferedBytes).toBe(60);
    expectFrameError(() => reassembler.push(chunks[1] ?? Buffer.alloc(0)), "reassembly-too-large");
    expect(reassembler.bufferedBytes).toBe(0);
    // No recovery: the rest of that payload must not be mistaken for a new one.
    expectFrameError(() => reassembler.push(Buffer.from([0x00, 1])), "reassembly-too-large");
  });

  it("accepts a payload of exactly the cap", () => {
    expect(reassemble(splitPayload(Buffer.alloc(100, 3), 30), 100)).toEqual(Buffer.alloc(100, 3));
  });

  it("rejects empty chunks, unknown flags and data-less non-final chunks", () => {
    expectFrameError(() => new Reassembler({ maxPayloadBytes: 10 }).push(Buffer.alloc(0)), "bad-chunk");
    expectFrameError(() => new Reassembler({ maxPayloadBytes: 10 }).push(Buffer.from([0x02, 1])), "bad-chunk");
    expectFrameError(() => new Reassembler({ maxPayloadBytes: 10 }).push(Buffer.from([0xff])), "bad-chunk");
    expectFrameError(() => new Reassembler({ maxPayloadBytes: 10 }).push(Buffer.from([0x01])), "bad-chunk");
  });

  it("copies chunk data so later reuse of the caller's buffer cannot corrupt the payload", () => {
    const reassembler = new Reassembler({ maxPayloadBytes: 10 });
    const first = Buffer.from([0x01, 0x61, 0x62]);
    reassembler.push(first);
    first.fill(0);
    expect(reassembler.push(Buffer.from([0x00, 0x63]))?.toString()).toBe("abc");
  });
});
