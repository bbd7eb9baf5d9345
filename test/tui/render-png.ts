import { Resvg } from "@resvg/resvg-js";
import type xterm from "@xterm/headless";

/**
 * Draws a headless terminal's screen buffer as a PNG: one SVG text element per cell in
 * DejaVu Sans Mono with its xterm colours, rasterised by resvg (no browser, no network).
 * Glyphs the installed fonts lack (CJK, emoji on this machine) show as boxes.
 */
const CELL_W = 8.43;
const CELL_H = 17;
const BASE16 = ["#1d1f21", "#cc6666", "#b5bd68", "#f0c674", "#3465a4", "#b294bb", "#8abeb7", "#c5c8c6", "#666666", "#d54e53", "#b9ca4a", "#e7c547", "#7aa6da", "#c397d8", "#70c0b1", "#eaeaea"];
const DEFAULT_FG = "#d0d0d0";
const DEFAULT_BG = "#101214";

function paletteColour(n: number): string {
  if (n < 16) return BASE16[n]!;
  if (n < 232) {
    const i = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
  }
  const grey = 8 + (n - 232) * 10;
  return `rgb(${grey},${grey},${grey})`;
}

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderPng(term: xterm.Terminal): Buffer {
  const buffer = term.buffer.active;
  const cell = buffer.getNullCell();
  const parts: string[] = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    if (!line) continue;
    for (let x = 0; x < term.cols; x++) {
      line.getCell(x, cell);
      const inverse = cell.isInverse() !== 0;
      let fg = cell.isFgPalette() ? paletteColour(cell.getFgColor()) : cell.isFgRGB() ? `#${cell.getFgColor().toString(16).padStart(6, "0")}` : DEFAULT_FG;
      let bg = cell.isBgPalette() ? paletteColour(cell.getBgColor()) : cell.isBgRGB() ? `#${cell.getBgColor().toString(16).padStart(6, "0")}` : DEFAULT_BG;
      if (inverse) [fg, bg] = [bg === DEFAULT_BG ? "#101214" : bg, fg];
      const w = Math.max(1, cell.getWidth()) * CELL_W;
      if (bg !== DEFAULT_BG) parts.push(`<rect x="${(x * CELL_W).toFixed(2)}" y="${y * CELL_H}" width="${(w + 0.6).toFixed(2)}" height="${CELL_H}" fill="${bg}"/>`);
      const ch = cell.getChars();
      if (ch && ch !== " ") {
        const weight = cell.isBold() ? ' font-weight="bold"' : "";
        parts.push(`<text x="${(x * CELL_W).toFixed(2)}" y="${y * CELL_H + 13}" fill="${fg}"${weight}>${escapeXml(ch)}</text>`);
      }
    }
  }
  const width = Math.ceil(term.cols * CELL_W);
  const height = term.rows * CELL_H;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans Mono" font-size="14"><rect width="100%" height="100%" fill="${DEFAULT_BG}"/>${parts.join("")}</svg>`;
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans Mono" } }).render().asPng();
}
