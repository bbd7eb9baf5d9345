import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PipeDecoder, encodePipeMessage } from "./supervisor-pipe.js";

describe("the supervisor pipe's frames", () => {
  it("round-trip key, wipe and address messages, even split at every byte", () => {
    const key = randomBytes(32);
    const stream = Buffer.concat([
      encodePipeMessage({ type: "address", address: "tcp://127.0.0.1:4711" }),
      encodePipeMessage({ type: "key", key }),
      encodePipeMessage({ type: "wipe" }),
    ]);
    const decoder = new PipeDecoder();
    const messages = [];
    for (const byte of stream) messages.push(...decoder.push(Buffer.from([byte])));
    expect(messages).toEqual([{ type: "address", address: "tcp://127.0.0.1:4711" }, { type: "key", key }, { type: "wipe" }]);
  });

  it("zeroes the chunks it consumed, so key bytes do not linger in buffers it let go of", () => {
    const key = Buffer.alloc(32, 0xab);
    const chunk = encodePipeMessage({ type: "key", key });
    const [message] = new PipeDecoder().push(chunk);
    expect(message).toEqual({ type: "key", key });
    expect(chunk.every((b) => b === 0)).toBe(true);
  });

  it("skips unknown frame types and refuses a frame longer than the cap", () => {
    const unknown = Buffer.from([9, 0, 2, 1, 2]);
    expect(new PipeDecoder().push(Buffer.concat([unknown, encodePipeMessage({ type: "wipe" })]))).toEqual([{ type: "wipe" }]);
    expect(() => new PipeDecoder().push(Buffer.from([1, 0xff, 0xff]))).toThrow(RangeError);
  });
});
