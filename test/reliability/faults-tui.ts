import { eventually } from "../helpers/cli.js";
import { KEY, TuiTerminal } from "../tui/harness.js";
import { type ResilientSession, type SendTally } from "./faults-exchange.js";
import { split, wholeConversation } from "./faults-history.js";

/** How long a live TUI may take to get a typed message into the store (it may be reconnecting). */
const TUI_SEND_TIMEOUT_MS = 120_000;

/** The conversation screen with its message line, and no lock prompt over it. */
const atMainScreen = (screen: string) => screen.includes("─ message ─") && !screen.includes("jarvis is locked");

/**
 * Sends messages by typing them into the real TUI (node-pty), as a person would, and can be
 * killed -9 at any moment. A message counts as sent once the node has stored it; when the TUI
 * died first and the text is not stored, a new TUI is started and the text typed again. While
 * the TUI lives it is trusted to send what was typed, even across a daemon restart (it keeps
 * the text "not sent yet"): typing it again then would be the duplicate the test looks for.
 */
export class TuiSender {
  #tui: TuiTerminal | undefined;
  #alive = false;
  /** Settles when the TUI being started has connected (or died trying); undefined when none is. */
  #starting: Promise<void> | undefined;
  /** Set while a fault that stops the daemon runs: no TUI may start meanwhile. */
  #held: Promise<void> | undefined;
  starts = 0;

  constructor(
    private readonly session: ResilientSession,
    private readonly contactName: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts the TUI now (rather than at the first send), and waits until it shows the contact. */
  async start(): Promise<void> {
    await this.#running();
  }

  /**
   * Runs `fault` (one that stops the whole daemon) with no TUI starting meanwhile. A TUI started
   * while there is no daemon starts one itself (`jarvis tui` does, as a person would want), and
   * that daemon would race the fault's own `jarvis up`. So a start under way is let finish
   * first, and new ones wait until the fault is over.
   */
  async withStartsHeld<T>(fault: () => Promise<T>): Promise<T> {
    let release!: () => void;
    this.#held = new Promise<void>((resolve) => (release = resolve));
    try {
      await this.#starting;
      return await fault();
    } finally {
      this.#held = undefined;
      release();
    }
  }

  /** kill -9 of the TUI process; the next send starts a new one. */
  kill(): void {
    this.#tui?.kill();
  }

  async send(conversation: string, text: string, tally: SendTally): Promise<void> {
    for (;;) {
      const tui = await this.#running();
      // Typed only at the main screen, as a person would. A TUI that reconnects to a session
      // the supervisor has just restarted can find it locked for a moment (until the
      // supervisor hands the key back) and shows the password prompt meanwhile; text typed
      // then is a password attempt, not a message (seen under load: faults-kill seed 623874684).
      try {
        await tui.waitFor(atMainScreen, TUI_SEND_TIMEOUT_MS);
      } catch (error) {
        if (this.#alive) throw error;
        continue; // died meanwhile: the next round starts another
      }
      tui.type(text);
      tui.type(KEY.enter);
      const stored = await eventually(
        async () => {
          const mine = split(await this.#history(conversation)).outgoing;
          if (mine.some((m) => m.text === text)) return "stored";
          return this.#alive ? undefined : "tui died first";
        },
        TUI_SEND_TIMEOUT_MS,
        `the TUI's message "${text}" to be stored`,
      ).catch((error: unknown) => {
        this.session.renew();
        throw error;
      });
      if (stored === "stored") {
        tally.sent++;
        return;
      }
      tally.resent++;
    }
  }

  close(): void {
    this.#tui?.kill();
  }

  async #history(conversation: string) {
    try {
      return await wholeConversation(this.session.current(), conversation);
    } catch (error) {
      this.session.renew();
      throw error;
    }
  }

  async #running(): Promise<TuiTerminal> {
    for (;;) {
      if (this.#tui && this.#alive) return this.#tui;
      // Started only once the node serves: a TUI started against a stopped daemon would start
      // one itself, racing the `jarvis up` of the fault that stopped it (see withStartsHeld).
      await this.#held;
      await this.session.untilServing();
      if (this.#held) continue;
      const tui = new TuiTerminal(this.session.node.home, { cols: 100, rows: 30, env: this.env });
      this.#tui = tui;
      this.#alive = true;
      this.starts++;
      void tui.exited.then(() => {
        if (this.#tui === tui) this.#alive = false;
      });
      const connected = tui.waitFor(`● ${this.contactName}`, 60_000);
      this.#starting = connected.then(
        () => undefined,
        () => undefined,
      );
      try {
        await connected;
        return tui;
      } catch (error) {
        // Killed while starting (a fault landed here): start another; anything else is a finding.
        if (this.#alive) throw error;
      } finally {
        this.#starting = undefined;
      }
    }
  }
}
