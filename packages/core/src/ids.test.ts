import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.js";
import {
  fingerprintOf,
  formatFingerprint,
  formatSafetyNumber,
  isFingerprint,
  isGroupId,
  isMessageId,
  isUid,
  newGroupId,
  newMessageId,
  safetyNumber,
  uidFromPublicKey,
} from "./ids.js";

const keyA = Uint8Array.from({ length: 32 }, (_, i) => i);
const keyB = Uint8Array.from({ length: 32 }, (_, i) => i + 32);

describe("uid and fingerprint", () => {
  it("derives the uid from the key: 32 hex of SHA-256('jarvis-uid-v1' ‖ key)", () => {
    const expected = createHash("sha256").update("jarvis-uid-v1").update(keyA).digest("hex").slice(0, 32);
    expect(uidFromPublicKey(keyA)).toBe(expected);
    // Regression vector: a changed derivation would orphan every stored contact.
    expect(uidFromPublicKey(keyA)).toBe("612a42191dfdb9a0b3dee63c1f0c1b8e");
    expect(uidFromPublicKey(keyB)).toBe("a1f37a8f19591fb083418d7e460f4775");
    expect(isUid(uidFromPublicKey(keyA))).toBe(true);
  });

  it("fingerprint is SHA-256 of the key, shown as 16 groups of 4", () => {
    // SHA-256 of the bytes 0x00..0x1f (a well-known value).
    expect(fingerprintOf(keyA)).toBe("630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd");
    const shown = formatFingerprint(fingerprintOf(keyA));
    expect(shown.split(" ")).toHaveLength(16);
    expect(shown.startsWith("630d cd29 66c4")).toBe(true);
    expect(isFingerprint(fingerprintOf(keyB))).toBe(true);
  });

  it("refuses keys that are not 32 bytes", () => {
    for (const key of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33)]) {
      expect(() => uidFromPublicKey(key)).toThrow(InvalidArgumentError);
      expect(() => fingerprintOf(key)).toThrow(/public key must be 32 bytes/);
      expect(() => safetyNumber(key, keyA)).toThrow(InvalidArgumentError);
    }
  });
});

describe("safety number", () => {
  it("is 60 digits, the same from both ends", () => {
    const ab = safetyNumber(keyA, keyB);
    expect(ab).toMatch(/^\d{60}$/);
    expect(safetyNumber(keyB, keyA)).toBe(ab);
    expect(ab).toBe("623169589288053239755978638721964838931941174648020502591787");
  });

  it("changes when either key changes", () => {
    const keyC = Uint8Array.from(keyB);
    keyC[31] ^= 1;
    expect(safetyNumber(keyA, keyC)).not.toBe(safetyNumber(keyA, keyB));
    expect(safetyNumber(keyC, keyB)).not.toBe(safetyNumber(keyA, keyB));
  });

  it("is shown as 12 groups of 5 digits", () => {
    const shown = formatSafetyNumber(safetyNumber(keyA, keyB));
    expect(shown.split(" ")).toHaveLength(12);
    expect(shown.split(" ").every((group) => /^\d{5}$/.test(group))).toBe(true);
  });
});

describe("ids", () => {
  it("makes fresh message and group ids of the right shape", () => {
    const messages = new Set(Array.from({ length: 100 }, newMessageId));
    expect(messages.size).toBe(100);
    for (const id of messages) expect(isMessageId(id)).toBe(true);
    const group = newGroupId();
    expect(isGroupId(group)).toBe(true);
    expect(group).toHaveLength(32);
    expect(isUid(group)).toBe(false);
  });

  it("starts a message id with its creation time, so later ids sort later", () => {
    const t0 = Date.UTC(2026, 10, 28, 1, 2, 3, 4);
    const ids = [t0, t0 + 1, t0 + 1000, t0 + 86_400_000].map((t) => newMessageId(t));
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map((id) => Number.parseInt(id.slice(0, 12), 16))).toEqual([t0, t0 + 1, t0 + 1000, t0 + 86_400_000]);
    const now = Date.now();
    const stamped = Number.parseInt(newMessageId().slice(0, 12), 16);
    expect(stamped).toBeGreaterThanOrEqual(now);
    expect(stamped).toBeLessThan(now + 60_000);
  });

  it("gives ids made in the same millisecond distinct random tails, across refills of its random pool", () => {
    const t = Date.UTC(2026, 10, 28);
    // 2,000 ids span several refills of the 4,000-byte pool (10 bytes per id).
    const ids = Array.from({ length: 2000 }, () => newMessageId(t));
    expect(new Set(ids).size).toBe(ids.length);
    const tails = ids.map((id) => id.slice(12));
    expect(new Set(tails).size).toBe(ids.length);
    for (const id of ids) expect(isMessageId(id)).toBe(true);
    // The tails are not a counter: their bytes spread over the whole range.
    const firstBytes = new Set(tails.map((tail) => tail.slice(0, 2)));
    expect(firstBytes.size).toBeGreaterThan(200);
  });

  it("recognises only lowercase hex of the exact length", () => {
    expect(isUid("612a42191dfdb9a0b3dee63c1f0c1b8e")).toBe(true);
    expect(isUid("612A42191DFDB9A0B3DEE63C1F0C1B8E")).toBe(false);
    expect(isUid("612a42191dfdb9a0b3dee63c1f0c1b8")).toBe(false);
    expect(isUid("612a42191dfdb9a0b3dee63c1f0c1b8ez")).toBe(false);
    expect(isGroupId("x" + "0".repeat(31))).toBe(false);
    expect(isFingerprint("0".repeat(63))).toBe(false);
  });
});
