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

  it("shows bullets, never the text, when secret", () => {
    const line = new InputLine({ secret: true, value: "hunter2" });
    expect(line.view(20)).toBe("•••••••▏");
  });
});
