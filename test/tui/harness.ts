import pty from "node-pty";
import xterm from "@xterm/headless";
import { JARVIS_BIN, TEST_PASSWORD } from "../helpers/cli.js";

/** Quiet time after which the screen counts as settled (see waitFor). */
const SETTLE_MS = 100;
/** A check that keeps holding this long counts as settled even while output goes on. */
const HELD_MS = 500;

/**
 * The real `jarvis` TUI in a pseudo-terminal, its output parsed by a headless xterm: tests
 * type keys and read the screen buffer exactly as a terminal would show it.
 */
export class TuiTerminal {
  readonly term: xterm.Terminal;
  readonly #pty: pty.IPty;
  readonly exited: Promise<{ exitCode: number; signal?: number }>;
  #alive = true;
  /** When output last came from the TUI (a frame can arrive in several pieces). */
  #lastOutputAt = Date.now();

  constructor(home: string, options: { cols?: number; rows?: number; args?: string[]; env?: NodeJS.ProcessEnv } = {}) {
    const cols = options.cols ?? 100;
    const rows = options.rows ?? 30;
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
    this.#pty = pty.spawn(process.execPath, [JARVIS_BIN, "--home", home, "--listen", "127.0.0.1:0", ...(options.args ?? [])], {
      name: "xterm-256color",
      cols,
      rows,
      env: { ...process.env, LANG: "C.UTF-8", NCURSES_NO_UTF8_ACS: "1", TERM: "xterm-256color", JARVIS_PASSWORD: TEST_PASSWORD, JARVIS_NOTIFY: "0", ...options.env } as Record<string, string>,
    });
    this.#pty.onData((d) => {
      this.#lastOutputAt = Date.now();
      this.term.write(d);
    });
    this.exited = new Promise((resolve) =>
      this.#pty.onExit((e) => {
        this.#alive = false;
        resolve(e);
      }),
    );
  }

  /** The visible screen, one string per row. */
  async rows(): Promise<string[]> {
    await new Promise<void>((resolve) => this.term.write("", resolve));
    const buffer = this.term.buffer.active;
    return Array.from({ length: this.term.rows }, (_, i) => buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? "");
  }

  async text(): Promise<string> {
    return (await this.rows()).join("\n");
  }

  /**
   * Waits until the screen satisfies `check` (a substring or a predicate) and has settled;
   * bounded by content, not by time slices. Settled: no output for SETTLE_MS, or the check has
   * held for HELD_MS — a frame written in one go can reach the pty in pieces (more so on a
   * loaded machine), and a screen caught between them would show half a dialog.
   */
  async waitFor(check: string | ((screen: string) => boolean), timeoutMs = 30_000): Promise<string> {
    const ok = typeof check === "string" ? (s: string) => s.includes(check) : check;
    const deadline = Date.now() + timeoutMs;
    let heldSince: number | undefined;
    for (;;) {
      const screen = await this.text();
      if (ok(screen)) {
        heldSince ??= Date.now();
        if (Date.now() - this.#lastOutputAt >= SETTLE_MS || Date.now() - heldSince >= HELD_MS) return screen;
      } else {
        heldSince = undefined;
      }
      if (!this.#alive) throw new Error(`the TUI exited while waiting for ${String(check)}; screen:\n${screen}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(check)}; screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, heldSince === undefined ? 50 : 20));
    }
  }

  type(text: string): void {
    this.#pty.write(text);
  }

  /** Text as a terminal delivers a paste when bracketed paste is on. */
  paste(text: string): void {
    this.#pty.write(`\x1b[200~${text}\x1b[201~`);
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
    this.#pty.resize(cols, rows);
  }

  kill(): void {
    if (this.#alive) this.#pty.kill("SIGKILL");
  }
}

export const KEY = { enter: "\r", tab: "\t", escape: "\x1b", ctrl: (c: string) => String.fromCharCode(c.toUpperCase().charCodeAt(0) - 64), f1: "\x1bOP", pageUp: "\x1b[5~" };

/** Every row of a bordered pane: the border characters are where they belong. */
export function bordersIntact(rows: string[]): boolean {
  return rows.every((row) => !row.includes("│") || [...row].filter((c) => c === "│").length % 2 === 0);
}
