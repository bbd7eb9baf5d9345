import { describe, expect, it } from "vitest";
import { InputLine } from "./input-line.js";

describe("InputLine", () => {
  it("never inserts Tab and submits on Enter", () => {
    const line = new InputLine();
    line.handle("h", { name: "h" });
    line.handle("\t", { name: "tab", full: "tab" });
    line.handle("i", { name: "i" });
    expect(line.value).toBe("hi");
    expect(line.handle("\r", { name: "return", full: "return" })).toBe("submit");
  });

  it("keeps newlines of a bracketed paste instead of sending", () => {
    const line = new InputLine();
    line.handle(undefined, { sequence: "\x1b[200~" });
    line.handle("a", { name: "a" });
    expect(line.handle("\r", { name: "return" })).toBe(true);
    line.handle("b", { name: "b" });
    line.handle(undefined, { sequence: "\x1b[201~" });
    expect(line.value).toBe("a\nb");
  });

  it("reads a pasted \\n, \\r and \\r\\n as one newline each, the way blessed reports them", () => {
    const line = new InputLine();
    line.handle(undefined, { sequence: "\x1b[200~" });
    const keys: [string, string][] = [["a", "a"], ["\n", "linefeed"], ["b", "b"], ["\r", "enter"], ["\r", "return"], ["c", "c"], ["\r", "enter"], ["\r", "return"], ["\n", "linefeed"], ["d", "d"]];
    for (const [ch, name] of keys) line.handle(ch, { name, sequence: ch });
    line.handle(undefined, { sequence: "\x1b[201~" });
    expect(line.value).toBe("a\nb\nc\nd");
    // Outside a paste a lone \n does nothing and Enter sends.
    expect(line.handle("\n", { name: "linefeed", sequence: "\n" })).toBe(false);
    expect(line.handle("\r", { name: "enter", sequence: "\r" })).toBe("submit");
  });

  it("shows bullets, never the text, when secret", () => {
    const line = new InputLine({ secret: true, value: "hunter2" });
    expect(line.view(20)).toBe("•••••••▏");
  });
});
