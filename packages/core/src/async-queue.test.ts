import { describe, expect, it } from "vitest";
import { AsyncQueue } from "./async-queue.js";

async function drain<T>(queue: AsyncQueue<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of queue) items.push(item);
  return items;
}

describe("AsyncQueue", () => {
  it("delivers items in order, then ends after the queued ones", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(queue.size).toBe(3);
    queue.end();
    expect(await drain(queue)).toEqual([1, 2, 3]);
    expect(queue.size).toBe(0);
  });

  it("wakes a waiting consumer when an item arrives, and when it ends", async () => {
    const queue = new AsyncQueue<string>();
    const first = queue.next();
    queue.push("a");
    expect(await first).toEqual({ value: "a", done: false });
    const second = queue.next();
    queue.end();
    expect(await second).toEqual({ value: undefined, done: true });
  });

  it("ignores pushes after end", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.end();
    queue.push(2);
    expect(queue.ended).toBe(true);
    expect(await drain(queue)).toEqual([1]);
  });

  it("fail() rejects a waiting consumer and drops what was queued", async () => {
    const waiting = new AsyncQueue<number>();
    const pending = waiting.next();
    waiting.fail(new Error("link lost"));
    await expect(pending).rejects.toThrow("link lost");

    const queued = new AsyncQueue<number>();
    queued.push(1);
    queued.fail(new Error("link lost"));
    expect(queued.size).toBe(0);
    await expect(drain(queued)).rejects.toThrow("link lost");
  });

  it("keeps order across the internal compaction of a long backlog", async () => {
    const queue = new AsyncQueue<number>();
    for (let i = 0; i < 3_000; i++) queue.push(i);
    const taken: number[] = [];
    for (let i = 0; i < 2_000; i++) taken.push(((await queue.next()) as IteratorYieldResult<number>).value);
    for (let i = 3_000; i < 4_000; i++) queue.push(i);
    // push() never blocks: the owner bounds the queue by watching size.
    expect(queue.size).toBe(2_000);
    queue.end();
    taken.push(...(await drain(queue)));
    expect(taken).toEqual(Array.from({ length: 4_000 }, (_, i) => i));
  });

  it("ends when the consumer stops early (break in for await)", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    for await (const item of queue) {
      expect(item).toBe(1);
      break;
    }
    expect(queue.ended).toBe(true);
    expect(queue.size).toBe(0);
  });
});
