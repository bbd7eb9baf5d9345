import { describe, expect, it } from "vitest";
import { quoteUntrusted, sanitizeForTerminal } from "./sanitize.js";

const ESC = "\u001b";
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u061c\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe("sanitizeForTerminal: escape sequences go whole", () => {
  it.each([
    ["ESC c (full reset)", `a${ESC}cb`, "ab"],
    ["CSI 2J (clear screen)", `hi ${ESC}[2J there`, "hi  there"],
    ["CSI with parameters and intermediates", `x${ESC}[38;5;196mred${ESC}[0m`, "xred"],
    ["CSI private mode", `${ESC}[?1049hx`, "x"],
    ["8-bit CSI", `a\u009b2Jb`, "ab"],
    ["OSC 0 title, BEL-terminated", `${ESC}]0;pwned\u0007title`, "title"],
    ["OSC 0 title, ST-terminated", `${ESC}]0;pwned${ESC}\\title`, "title"],
    ["OSC 8 hyperlink", `${ESC}]8;;http://evil/${ESC}\\click${ESC}]8;;${ESC}\\`, "click"],
    ["OSC 52 clipboard write", `${ESC}]52;c;cm0gLXJmIH4=\u0007ok`, "ok"],
    ["8-bit OSC with 8-bit ST", `a\u009d0;t\u009cb`, "ab"],
    ["DCS", `${ESC}Pq#0;2;0;0;0${ESC}\\after`, "after"],
    ["tmux passthrough DCS with a nested ESC", `${ESC}Ptmux;${ESC}${ESC}]0;x\u0007${ESC}\\end`, "end"],
    ["SOS, PM, APC", `1${ESC}Xs${ESC}\\2${ESC}^p${ESC}\\3${ESC}_a${ESC}\\4`, "1234"],
    ["8-bit DCS/APC", `a\u0090x\u009cb\u009fy\u009cc`, "abc"],
    ["charset designation ESC ( B", `a${ESC}(Bb`, "ab"],
    ["save cursor ESC 7", `a${ESC}7b`, "ab"],
  ])("%s", (_name, input, expected) => {
    expect(sanitizeForTerminal(input)).toBe(expected);
  });

  it.each([
    ["OSC cut short: swallows to the end", `name${ESC}]0;never ends`, "name"],
    ["DCS cut short", `name${ESC}Pdata`, "name"],
    ["CSI cut short", `name${ESC}[12;`, "name"],
    ["lone ESC at the end", `name${ESC}`, "name"],
    ["ESC ESC [ 2 J", `a${ESC}${ESC}[2Jb`, "ab"],
    ["ESC before a newline", `a${ESC}\nb`, "a b"],
    ["nested: a sequence splitting another", `${ESC}${ESC}[0m[2J`, "[2J"],
    ["CSI interrupted by ESC c", `${ESC}[12${ESC}cX`, "X"],
  ])("truncated and nested: %s", (_name, input, expected) => {
    const out = sanitizeForTerminal(input);
    expect(out).toBe(expected);
    expect(out).not.toMatch(FORBIDDEN);
  });

  it("leaves nothing a terminal would act on, and is idempotent, for random hostile input", () => {
    const alphabet = [ESC, "[", "]", "P", "X", "^", "_", "\\", "\u0007", "\u009b", "\u009c", "\u009d", "\u0090", "c", "0", ";", "2", "J", "m", "a", "\u202e", "\u2066", "\n", "\r", "\u0000", "\u2028", "\u061c", "é"];
    let seed = 42;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % alphabet.length;
    for (let n = 0; n < 5_000; n++) {
      const input = Array.from({ length: 1 + (n % 40) }, () => alphabet[next()]).join("");
      const out = sanitizeForTerminal(input);
      expect(out, JSON.stringify(input)).not.toMatch(FORBIDDEN);
      expect(out).not.toContain(ESC);
      expect(sanitizeForTerminal(out)).toBe(out);
    }
  });
});

describe("sanitizeForTerminal: single characters", () => {
  it("replaces every other C0 and C1 control and DEL with a space", () => {
    for (let code = 0; code < 0x20; code++) {
      if (code === 0x1b) continue;
      expect(sanitizeForTerminal(`a${String.fromCharCode(code)}b`), `U+${code.toString(16)}`).toBe("a b");
    }
    for (const code of [0x7f, 0x80, 0x85, 0x8d, 0x9a]) expect(sanitizeForTerminal(`a${String.fromCharCode(code)}b`), `U+${code.toString(16)}`).toBe("a b");
  });

  it("removes the bidi controls that can disguise text", () => {
    for (const mark of ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"]) {
      expect(sanitizeForTerminal(`invoice${mark}fdp.exe`)).toBe("invoice fdp.exe");
    }
  });

  it("keeps newlines and tabs only when asked; line separators count as newlines", () => {
    expect(sanitizeForTerminal("one\ntwo\tthree\u2028four")).toBe("one two three four");
    expect(sanitizeForTerminal(`one\ntwo\tthree\r${ESC}[1m\u2029x`, { keepNewlines: true })).toBe("one\ntwo\tthree\nx");
  });

  it("leaves ordinary text of any script alone", () => {
    const text = "héllo wörld ✓ 你好 мир שלום مرحبا 👋🏽 a+b=c [2J ]0; \\ \" '";
    expect(sanitizeForTerminal(text)).toBe(text);
    expect(sanitizeForTerminal("")).toBe("");
  });
});

describe("quoteUntrusted", () => {
  it("shows controls and bidi marks as escapes and cuts long input", () => {
    expect(quoteUntrusted(`a${ESC}cb\u202e"`)).toBe('"a\\u001bcb\\u202e\\""');
    expect(quoteUntrusted("x".repeat(100), 10)).toBe(`"${"x".repeat(10)}…"`);
    expect(quoteUntrusted(`${ESC}]0;t\u0007`)).not.toMatch(FORBIDDEN);
  });
});
