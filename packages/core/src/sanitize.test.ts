import { describe, expect, it } from "vitest";
import { sanitizeForTerminal } from "./sanitize.js";

describe("sanitizeForTerminal", () => {
  it("makes escape sequences inert: the ESC/BEL bytes go, the rest stays visible text", () => {
    expect(sanitizeForTerminal("hi \u001b[2J there")).toBe("hi  [2J there");
    expect(sanitizeForTerminal("\u001b]0;pwned\u0007title")).toBe(" ]0;pwned title");
    expect(sanitizeForTerminal("\u001bPtmux;\u001b\u001b\\")).not.toContain("\u001b");
  });

  it("removes every C0 and C1 control and DEL", () => {
    for (let code = 0; code < 0x20; code++) expect(sanitizeForTerminal(`a${String.fromCharCode(code)}b`), `U+${code.toString(16)}`).toBe("a b");
    for (let code = 0x7f; code <= 0x9f; code++) expect(sanitizeForTerminal(`a${String.fromCharCode(code)}b`), `U+${code.toString(16)}`).toBe("a b");
  });

  it("removes bidi overrides and isolates that can disguise text", () => {
    for (const mark of ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]) {
      expect(sanitizeForTerminal(`invoice${mark}fdp.exe`)).toBe("invoice fdp.exe");
    }
  });

  it("keeps newlines and tabs only when asked, still dropping other controls", () => {
    expect(sanitizeForTerminal("one\ntwo\tthree")).toBe("one two three");
    expect(sanitizeForTerminal("one\ntwo\tthree\r\u001b[1m", { keepNewlines: true })).toBe("one\ntwo\tthree[1m");
  });

  it("leaves ordinary text of any script alone", () => {
    const text = "héllo wörld ✓ 你好 мир 👋🏽 a+b=c \\ \" '";
    expect(sanitizeForTerminal(text)).toBe(text);
    expect(sanitizeForTerminal("")).toBe("");
  });
});
