import { describe, expect, it } from "vitest";
import { displayText, safe, truncate, width, wrap } from "./display.js";

describe("display text", () => {
  it("removes terminal controls and keeps markup braces literal", () => {
    expect(displayText("a\u001b[2Jb\u0007c")).toBe("ab c");
    expect(safe("{bold}x{/bold}")).not.toContain("{bold}");
  });

  it("reduces emoji sequences to parts every terminal draws alike", () => {
    expect(displayText("👨‍👩‍👧")).toBe("👨👩👧");
    expect(displayText("👍🏽")).toBe("👍");
    expect(displayText("🇫🇷")).toBe("FR");
  });

  it("wraps by display width without splitting graphemes or exceeding the width", () => {
    const rows = wrap("中文字中文字中文字 e\u0301e\u0301 😀😀😀 end", 7);
    for (const row of rows) expect(width(row)).toBeLessThanOrEqual(7);
    expect(rows.join("")).toContain("e\u0301");
    expect(truncate("abcdefgh", 5)).toBe("abcd…");
  });
});
