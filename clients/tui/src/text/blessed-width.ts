import stringWidth from "string-width";
import { createRequire } from "node:module";

interface BlessedUnicode {
  charWidth: (str: string | number, i?: number) => number;
  strWidth: (str: string) => number;
  chars: { all: RegExp };
}

/**
 * blessed 0.1.81 ships a Unicode 5-era width table: it gives 😀 or ⚡ one cell where every
 * current terminal draws two, and the border after them moves. Its layout code looks the
 * table up through the `unicode` module at call time, so pointing those lookups at
 * string-width makes blessed, our layout and the terminal agree. Wide characters are those
 * string-width measures as 2; blessed reserves their second cell with its \x03 filler.
 */
let installed = false;

export function installWidthTable(): void {
  if (installed) return;
  installed = true;
  const unicode = createRequire(import.meta.url)("blessed/lib/unicode.js") as BlessedUnicode;
  unicode.charWidth = (str, i = 0) => {
    const cp = typeof str === "number" ? str : str.codePointAt(i);
    return cp === undefined ? 0 : codePointWidth(cp);
  };
  unicode.strWidth = (str) => stringWidth(str);
  // blessed calls content.replace(chars.all, "$1\x03") to reserve the second cell of each
  // wide character; String.prototype.replace hands that to this Symbol.replace method.
  unicode.chars.all = { [Symbol.replace]: (content: string) => reserveWideCells(content) } as unknown as RegExp;
}

const widths = new Map<number, number>();
function codePointWidth(cp: number): number {
  if (cp < 0x1100) return cp < 0x20 ? 0 : 1; // nothing below U+1100 is wide
  let w = widths.get(cp);
  if (w === undefined) widths.set(cp, (w = stringWidth(String.fromCodePoint(cp))));
  return w;
}

function reserveWideCells(content: string): string {
  let out = "";
  for (const char of content) out += codePointWidth(char.codePointAt(0)!) === 2 ? `${char}\x03` : char;
  return out;
}
