import type blessed from "blessed";

export interface Key {
  name?: string;
  full?: string;
  sequence?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

/** Returns true when it used the key. */
export type KeyHandler = (ch: string | undefined, key: Key) => boolean | void;

const QUIT_KEYS = new Set(["C-c", "C-q"]);
export const PASTE_START = "\x1b[200~";
export const PASTE_END = "\x1b[201~";

/**
 * One place that decides who gets a key: quitting always works (even on the lock screen),
 * then the topmost layer (a modal, or the main screen) gets it. blessed's own focus and
 * "grabKeys" machinery is not used, so no widget can swallow Tab or Ctrl-C.
 */
export class KeyRouter {
  readonly #layers: KeyHandler[] = [];

  constructor(screen: blessed.Widgets.Screen, quit: () => void) {
    screen.on("keypress", (ch: string | undefined, key: Key | undefined) => {
      const k = key ?? {};
      if (k.full && QUIT_KEYS.has(k.full)) return quit();
      this.#layers.at(-1)?.(ch, k);
    });
    // blessed drops the bracketed-paste markers (it cannot name them), so they are taken from
    // the input stream, where they arrive in order between the pasted keys.
    const input = (screen.program as unknown as { input: NodeJS.EventEmitter }).input;
    input.on("keypress", (_ch: string | undefined, key: Key | undefined) => {
      if (key?.sequence === PASTE_START || key?.sequence === PASTE_END) this.#layers.at(-1)?.(undefined, { sequence: key.sequence });
    });
  }

  /** Gives keys to `handler` until the returned function is called. */
  push(handler: KeyHandler): () => void {
    this.#layers.push(handler);
    return () => {
      const at = this.#layers.lastIndexOf(handler);
      if (at >= 0) this.#layers.splice(at, 1);
    };
  }
}
