/**
 * Text from peers is data (design §5). Every peer-controlled string (names, addresses,
 * link-code fields, message text, error messages quoting them) goes through here before any
 * terminal output.
 *
 * Escape sequences are removed whole, not just their ESC byte: a bare "[2J" or "]0;title" left
 * behind is harmless, but whole removal also keeps a sequence's payload (an OSC title, a DCS
 * string) from showing up as junk. Covered: CSI (ESC [ / 0x9B), OSC (ESC ] / 0x9D, ended by BEL
 * or ST), DCS/SOS/PM/APC (ESC P X ^ _ / 0x90 0x98 0x9E 0x9F, ended by ST or BEL), and the
 * other ESC sequences (ESC c full reset, ESC ( B, ESC 7, …). An unterminated string sequence
 * runs to the end of the text, as a terminal would read it. Then every remaining C0/C1
 * control, DEL, and the bidi controls that can disguise text (U+202A–202E, U+2066–2069,
 * U+200E/F, U+061C) go; line and paragraph separators (U+2028/9) count as newlines.
 *
 * The output holds no ESC, no C1 byte and no bidi control at all, so nothing can re-form a
 * sequence from what is left, and sanitising twice changes nothing.
 */

const ESC = 0x1b;
const BEL = 0x07;
const ST_8BIT = 0x9c;
/** Introducers of sequences that carry a string up to ST (OSC also ends at BEL). */
const STRING_INTRODUCERS = new Set(["]", "P", "X", "^", "_"]);
const C1_STRING_INTRODUCERS = new Map([[0x9d, "]"], [0x90, "P"], [0x98, "X"], [0x9e, "^"], [0x9f, "_"]]);
const C1_CSI = 0x9b;
const BIDI = new Set([0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]);
const LINE_SEPARATORS = new Set([0x2028, 0x2029]);

export function sanitizeForTerminal(text: string, options: { keepNewlines?: boolean } = {}): string {
  const keepNewlines = options.keepNewlines === true;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === ESC) {
      i = skipEscape(text, i + 1);
    } else if (code === C1_CSI) {
      i = skipCsi(text, i + 1);
    } else if (C1_STRING_INTRODUCERS.has(code)) {
      i = skipString(text, i + 1);
    } else if (code === 0x0a || code === 0x09 || LINE_SEPARATORS.has(code)) {
      out += keepNewlines ? (code === 0x09 ? "\t" : "\n") : " ";
      i++;
    } else if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || BIDI.has(code)) {
      if (!keepNewlines) out += " ";
      i++;
    } else {
      out += text[i];
      i++;
    }
  }
  return out;
}

/** After an ESC at i-1: returns the index just past the whole sequence. */
function skipEscape(text: string, i: number): number {
  const next = text[i];
  if (next === undefined) return i;
  if (next === "[") return skipCsi(text, i + 1);
  if (STRING_INTRODUCERS.has(next)) return skipString(text, i + 1);
  // nF/Fp/Fe/Fs forms: intermediates 0x20–0x2F, then one final byte 0x30–0x7E (ESC c, ESC ( B).
  let j = i;
  while (j < text.length && inRange(text.charCodeAt(j), 0x20, 0x2f)) j++;
  if (j < text.length && inRange(text.charCodeAt(j), 0x30, 0x7e)) return j + 1;
  // Not a sequence (ESC before a control, another ESC, or non-ASCII): drop the ESC and any
  // intermediates, and let the loop judge what follows on its own.
  return j;
}

/** CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E. */
function skipCsi(text: string, i: number): number {
  let j = i;
  while (j < text.length && inRange(text.charCodeAt(j), 0x20, 0x3f)) j++;
  if (j < text.length && inRange(text.charCodeAt(j), 0x40, 0x7e)) return j + 1;
  // Malformed or cut short: the introducer and parameters go; the odd byte is judged alone.
  return j;
}

/** OSC/DCS/SOS/PM/APC: everything up to and including BEL, ESC \ or 8-bit ST, else to the end. */
function skipString(text: string, i: number): number {
  for (let j = i; j < text.length; j++) {
    const code = text.charCodeAt(j);
    if (code === BEL || code === ST_8BIT) return j + 1;
    if (code === ESC) return text[j + 1] === "\\" ? j + 2 : j;
  }
  return text.length;
}

function inRange(code: number, low: number, high: number): boolean {
  return code >= low && code <= high;
}

/**
 * For error messages that quote untrusted input (a bad address, a bad link code): controls
 * and bidi marks become visible \u escapes instead of acting, and long input is cut.
 */
export function quoteUntrusted(text: string, maxLength = 80): string {
  const cut = text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u061c\u2028\u2029\u202a-\u202e\u2066-\u2069"\\]/g, (c) =>
    c === '"' || c === "\\" ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `"${escaped}"`;
}
