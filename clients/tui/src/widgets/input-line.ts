import { displayText, truncate, width } from "../text/display.js";
import { PASTE_END, PASTE_START, type Key } from "./keyboard.js";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * An editable line kept by us, not by a blessed textbox: Tab is never inserted, Enter
 * submits, and a bracketed paste keeps its newlines (a pasted Enter does not send). A secret
 * line shows one bullet per character and never the text.
 */
export class InputLine {
  value = "";
  readonly secret: boolean;
  #pasting = false;
  /** The last key of a paste was \r (a following \n belongs to it). */
  #afterReturn = false;

  constructor(options: { secret?: boolean; value?: string } = {}) {
    this.secret = options.secret ?? false;
    this.value = options.value ?? "";
  }

  /** Returns "submit" on Enter, true when the key edited the line, false if unused. */
  handle(ch: string | undefined, key: Key): "submit" | boolean {
    if (key.sequence === PASTE_START || key.sequence?.startsWith(PASTE_START)) return (this.#pasting = true);
    if (key.sequence === PASTE_END) return !(this.#pasting = false);
    if (key.name === "enter" || key.name === "return" || key.name === "linefeed") {
      if (!this.#pasting) return key.name === "linefeed" ? false : "submit"; // \n alone is the tail of a \r\n pair
      // blessed reports each \r twice ("enter", then "return") and \n as "linefeed": in a paste,
      // "return" and "linefeed" are newlines, except the \n of a \r\n pair.
      if (key.name === "enter" || (key.name === "linefeed" && this.#afterReturn)) return (this.#afterReturn = false);
      this.#afterReturn = key.name === "return";
      this.value += "\n";
      return true;
    }
    this.#afterReturn = false;
    if (key.name === "backspace") {
      const parts = Array.from(segmenter.segment(this.value), (s) => s.segment);
      this.value = parts.slice(0, -1).join("");
      return true;
    }
    if (key.full === "C-u") return !(this.value = "");
    if (key.full === "C-w") {
      this.value = this.value.replace(/\s*\S+\s*$/u, "");
      return true;
    }
    // eslint-disable-next-line no-control-regex -- control characters are keys, not text
    if (ch && !key.ctrl && !key.meta && !/^[\x00-\x1f\x7f]/.test(ch) && key.name !== "escape") {
      this.value += ch;
      return true;
    }
    return false;
  }

  clear(): void {
    this.value = "";
  }

  /** What to draw in `columns` cells: the end of the text (where typing happens) and a cursor. */
  view(columns: number): string {
    const shown = this.secret ? "•".repeat([...this.value].length) : displayText(this.value.replace(/\n/g, " ↵ "));
    const room = Math.max(1, columns - 1);
    if (width(shown) <= room) return `${shown}▏`;
    // Keep the tail: cut graphemes from the front until it fits, marked with an ellipsis.
    const parts = Array.from(segmenter.segment(shown), (s) => s.segment);
    let start = 0;
    while (start < parts.length && width(parts.slice(start).join("")) > room - 1) start++;
    return `…${truncate(parts.slice(start).join(""), room - 1)}▏`;
  }
}
