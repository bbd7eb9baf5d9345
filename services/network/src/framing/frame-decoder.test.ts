import { describe, expect, it } from "vitest";
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_LENGTH } from "./frame-decoder.js";
import type { FrameErrorCode } from "./frame-error.js";
import { expectErrorCode } from "../../../../test/helpers/assertions.js";
import { seededRandom } from "../testing/index.js";

const expectFrameError = (action: () => unknown, code: FrameErrorCode) => expectErrorCode(action, FrameError, code);

describe("encodeFrame", () => {
  it("prefixes the body with its big-endian length", () => {
    expect(encodeFrame(Buffer.from("abc"))).toEqual(Buffer.from([0x00, 0x03, 0x61, 0x62, 0x63]));
    const largest = encodeFrame(Buffer.alloc(MAX_FRAME_LENGTH, 9));
    expect(largest.readUInt16BE(0)).toBe(0xffff);
    expect(largest).toHaveLength(MAX_FRAME_LENGTH + 2);
  });

  it("refuses empty and oversized bodies", () => {
    expectFrameError(() => encodeFrame(Buffer.alloc(0)), "frame-empty");
    expectFrameError(() => encodeFrame(Buffer.alloc(MAX_FRAME_LENGTH + 1)), "frame-too-large");
  });
});

describe("FrameDecoder", () => {
  it("returns several frames delivered in one push, in order", () => {
    const bodies = [Buffer.from("one"), Buffer.from("two!"), Buffer.alloc(300, 7)];
    const decoder = new FrameDecoder();
    expect(decoder.push(Buffer.concat(bodies.map(encodeFrame)))).toEqual(bodies);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("parses identically wherever the stream is split", () => {
    const bodies = [Buffer.from("a"), Buffer.from("hello world"), Buffer.from([0, 1, 2, 3, 255])];
    const stream = Buffer.concat(bodies.map(encodeFrame));
    for (let split = 0; split <= stream.length; split++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(stream.subarray(0, split)), ...decoder.push(stream.subarray(split))];
      expect(frames, `split at ${split}`).toEqual(bodies);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it("parses a stream fed one byte at a time, reporting partial frames as buffered", () => {
    const body = Buffer.from("byte by byte");
    const stream = encodeFrame(body);
    const decoder = new FrameDecoder();
    for (let i = 0; i < stream.length - 1; i++) {
      expect(decoder.push(stream.subarray(i, i + 1))).toEqual([]);
      expect(decoder.bufferedBytes).toBe(i + 1);
    }
    expect(decoder.push(stream.subarray(stream.length - 1))).toEqual([body]);
  });

  it("returns frames the caller owns, unaffected by later reuse of the input buffer", () => {
    const input = encodeFrame(Buffer.from("stable"));
    const [frame] = new FrameDecoder().push(input);
    input.fill(0);
    expect(frame?.toString()).toBe("stable");
  });

  it("rejects an oversize header as soon as its two bytes arrive, before any body is buffered", () => {
    const decoder = new FrameDecoder({ maxFrameLength: 1024 });
    expect(decoder.push(Buffer.from([0x04]))).toEqual([]);
    expectFrameError(() => decoder.push(Buffer.from([0x01])), "frame-too-large");
    expect(decoder.bufferedBytes).toBe(0);
    // The stream is now misaligned for good; later input is refused too.
    expectFrameError(() => decoder.push(Buffer.from("anything")), "frame-too-large");
  });

  it("accepts a frame of exactly the limit", () => {
    const decoder = new FrameDecoder({ maxFrameLength: 1024 });
    expect(decoder.push(encodeFrame(Buffer.alloc(1024, 1)))).toEqual([Buffer.alloc(1024, 1)]);
  });

  it("rejects a zero-length frame", () => {
    const decoder = new FrameDecoder();
    expectFrameError(() => decoder.push(Buffer.concat([encodeFrame(Buffer.from("ok")), Buffer.from([0, 0])])), "frame-empty");
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("refuses a limit outside 1..65535", () => {
    expect(() => new FrameDecoder({ maxFrameLength: 0 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameLength: MAX_FRAME_LENGTH + 1 })).toThrow(RangeError);
  });

  it("survives random input: only FrameErrors, and never more than one partial frame buffered", () => {
    const random = seededRandom(0x5eed);
    let framesSeen = 0;
    let errorsSeen = 0;
    for (let iteration = 0; iteration < 2000; iteration++) {
      const decoder = new FrameDecoder();
      // Bias towards small length headers so that many frames actually complete.
      const pushes = 1 + Math.floor(random() * 8);
      try {
        for (let p = 0; p < pushes; p++) {
          const chunk = Buffer.alloc(Math.floor(random() * 600));
          for (let i = 0; i < chunk.length; i++) {
            chunk[i] = random() < 0.3 ? 0 : Math.floor(random() * 256);
          }
          framesSeen += decoder.push(chunk).length;
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(MAX_FRAME_LENGTH + 2);
        }
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        errorsSeen += 1;
      }
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(MAX_FRAME_LENGTH + 2);
    }
    // Both paths were exercised, so the loop tested something.
    expect(framesSeen).toBeGreaterThan(0);
    expect(errorsSeen).toBeGreaterThan(0);
  });
});
