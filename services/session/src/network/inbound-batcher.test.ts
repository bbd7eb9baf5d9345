import { describe, expect, it } from "vitest";
import { InboundBatcher, type InboundFrame } from "./inbound-batcher.js";

const key = Buffer.alloc(32, 1);
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("InboundBatcher", () => {
  it("handles frames of one turn as one batch and asks the reader to wait only past the byte bound", async () => {
    const batches: InboundFrame[][] = [];
    const batcher = new InboundBatcher((frames) => batches.push(frames), { maxPendingBytes: 1000 });
    expect(batcher.push(key, Buffer.alloc(400))).toBeUndefined();
    expect(batcher.push(key, Buffer.alloc(400))).toBeUndefined();
    const wait = batcher.push(key, Buffer.alloc(400));
    expect(wait).toBeInstanceOf(Promise);
    expect(batcher.pendingBytes).toBe(1200);
    expect(batches).toEqual([]);
    await wait;
    expect(batches.map((b) => b.length)).toEqual([3]);
    expect(batcher.pendingBytes).toBe(0);
    batcher.push(key, Buffer.alloc(10));
    await tick();
    expect(batches.map((b) => b.length)).toEqual([3, 1]);
  });

  it("drops what is pending when closed", async () => {
    const batches: InboundFrame[][] = [];
    const batcher = new InboundBatcher((frames) => batches.push(frames), { maxPendingBytes: 1000 });
    batcher.push(key, Buffer.alloc(10));
    batcher.close();
    await tick();
    expect(batches).toEqual([]);
    expect(batcher.push(key, Buffer.alloc(10))).toBeUndefined();
  });

  it("handles at most maxBatchBytes per batch (one turn's work is bounded); the rest follows in order", async () => {
    const batches: InboundFrame[][] = [];
    const batcher = new InboundBatcher((frames) => batches.push(frames), { maxPendingBytes: 10_000, maxBatchBytes: 250 });
    for (let i = 0; i < 7; i++) batcher.push(key, Buffer.alloc(100, i));
    batcher.push(key, Buffer.alloc(400, 7)); // larger than a batch: still goes, alone
    for (let i = 0; i < 5; i++) await tick();
    expect(batches.map((b) => b.map((f) => f.payload[0]))).toEqual([[0, 1], [2, 3], [4, 5], [6], [7]]);
    expect(batcher.pendingBytes).toBe(0);
  });
});
