import { describe, expect, it } from "vitest";
import { GroupCommit } from "./group-commit.js";
import { DiskFullError } from "./store-errors.js";

/** A transaction runner whose first `failures` outermost transactions fail on a full disk after running. */
function runnerFailing(failures: number): { tx: <T>(fn: () => T) => T; outermost: () => number } {
  let depth = 0;
  let outermost = 0;
  const tx = <T>(fn: () => T): T => {
    if (depth === 0) outermost++;
    depth++;
    try {
      const value = fn();
      if (depth === 1 && outermost <= failures) throw new DiskFullError();
      return value;
    } finally {
      depth--;
    }
  };
  return { tx, outermost: () => outermost };
}

describe("group commit on a full disk", () => {
  it("tries a batch once more when a checkpoint made room, and settles each write with the second try's outcome", async () => {
    const runner = runnerFailing(1);
    let rooms = 0;
    const group = new GroupCommit(runner.tx, () => ++rooms > 0);
    let tries = 0;
    const writes = [group.write(() => ++tries), group.write(() => ++tries)];
    await expect(Promise.all(writes)).resolves.toEqual([3, 4]);
    expect(rooms).toBe(1);
    expect(runner.outermost()).toBe(2);
  });

  it("retries a lone write once, and refuses it when no room could be made", async () => {
    const made = new GroupCommit(runnerFailing(1).tx, () => true);
    await expect(made.write(() => "stored")).resolves.toBe("stored");
    const full = new GroupCommit(runnerFailing(5).tx, () => false);
    await expect(full.write(() => "stored")).rejects.toBeInstanceOf(DiskFullError);
    // Room made, but the disk refuses the second try too: one retry only.
    const stillFull = new GroupCommit(runnerFailing(5).tx, () => true);
    await expect(stillFull.write(() => "stored")).rejects.toBeInstanceOf(DiskFullError);
  });
});
