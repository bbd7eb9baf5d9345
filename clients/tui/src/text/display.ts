import blessed from "blessed";
import stringWidth from "string-width";
import { sanitizeForTerminal } from "@jarvis/core";

/**
 * Terminals disagree about the width of emoji sequences (ZWJ families, skin tones, flags,
 * presentation selectors). A border only stays intact when our width, blessed's width and
 * the terminal's width agree, so such sequences are reduced to parts every terminal draws
 * the same way: joiners, selectors and skin-tone modifiers are dropped, a flag becomes its
 * two letters, and a narrow astral character (which blessed would give two cells) becomes �.
 */
const DROP = /\u200d|\ufe0e|\ufe0f|[\u{1f3fb}-\u{1f3ff}]/gu;
const REGIONAL_INDICATOR = /[\u{1f1e6}-\u{1f1ff}]/gu;

function normaliseCodePoints(text: string): string {
  let out = "";
  for (const char of text.replace(DROP, "").replace(REGIONAL_INDICATOR, (c) => String.fromCharCode(0x41 + c.codePointAt(0)! - 0x1f1e6))) {
    if (char.length === 2 && stringWidth(char) !== 2) out += stringWidth(char) === 0 ? "" : "\ufffd";
    else out += char;
  }
  return out;
}

/** Peer text as plain, inert, width-predictable characters (newlines become spaces). */
export function displayText(text: string): string {
  return normaliseCodePoints(sanitizeForTerminal(text));
}

/** The same, with newlines kept, for message bodies that are laid out line by line. */
export function displayLines(text: string): string[] {
  return normaliseCodePoints(sanitizeForTerminal(text.replace(/\t/g, "    "), { keepNewlines: true })).split("\n");
}

/** Text ready for a blessed element with tags on: inert and with `{` escaped. */
export const safe = (text: string): string => blessed.escape(displayText(text));

/**
 * Cells a piece of text takes in a blessed element. That is its display width, plus one for
 * each astral wide character (emoji): blessed clips rows by UTF-16 length plus its filler
 * cell, so such a character costs it three cells. Laying out with this never lets blessed
 * clip a row we wrapped; the price is at most a spare cell per emoji at the end of a row.
 */
export function width(text: string): number {
  let extra = 0;
  for (const char of text) if (char.length === 2 && stringWidth(char) === 2) extra++;
  return stringWidth(text) + extra;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemes = (text: string): string[] => Array.from(segmenter.segment(text), (s) => s.segment);

/** The longest prefix that fits in `columns`, with an ellipsis when something was cut. */
export function truncate(text: string, columns: number): string {
  if (width(text) <= columns) return text;
  let out = "";
  let used = 0;
  for (const g of graphemes(text)) {
    const w = width(g);
    if (used + w > columns - 1) break;
    out += g;
    used += w;
  }
  return `${out}…`;
}

/** Pads with spaces to exactly `columns` (truncating first if needed). */
export const pad = (text: string, columns: number): string => {
  const cut = truncate(text, columns);
  return cut + " ".repeat(Math.max(0, columns - width(cut)));
};

/** Breaks one line into rows no wider than `columns`, preferring spaces, never splitting a grapheme. */
export function wrap(text: string, columns: number): string[] {
  if (columns <= 0) return [text];
  const rows: string[] = [];
  let row = "";
  let used = 0;
  let lastSpace = -1;
  for (const g of graphemes(text)) {
    const w = width(g);
    if (used + w > columns) {
      if (lastSpace > 0 && g !== " ") {
        rows.push(row.slice(0, lastSpace));
        row = row.slice(lastSpace + 1);
      } else {
        rows.push(row);
        row = "";
      }
      used = width(row);
      lastSpace = -1;
      if (g === " " && row === "") continue;
    }
    if (g === " ") lastSpace = row.length;
    row += g;
    used += w;
  }
  rows.push(row);
  return rows;
}
