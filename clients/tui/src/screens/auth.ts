import blessed from "blessed";
import { ConnectError } from "@connectrpc/connect";
import { foregroundClock, sleep } from "@jarvis/core";
import type { SessionClient } from "../client.js";
import { safe } from "../text/display.js";
import type { KeyRouter } from "../widgets/keyboard.js";
import { prompt } from "../widgets/modal.js";

export const errorText = (error: unknown) => (error instanceof ConnectError ? error.rawMessage : error instanceof Error ? error.message : String(error));

/**
 * The lock screen: an opaque layer over the whole terminal (nothing behind it is drawn),
 * closed only by the right password. Ctrl-Q/Ctrl-C still quit (the KeyRouter sees them first).
 * A first run asks for a name and the password twice.
 */
export async function unlockOrCreate(
  screen: blessed.Widgets.Screen,
  router: KeyRouter,
  client: SessionClient,
  hide: (hidden: boolean) => void,
  closing: AbortSignal,
): Promise<void> {
  hide(true);
  const cover = blessed.box({ parent: screen, top: 0, left: 0, width: "100%", height: "100%", tags: true, style: { bg: "black" } });
  cover.setFront();
  // Unlocked elsewhere (`jarvis up`/`unlock`, or a restarted daemon): the prompt goes away.
  // Quitting ends the watch too, so no timer keeps the process alive after the TUI closes.
  const unlockedElsewhere = new AbortController();
  const onClosing = () => unlockedElsewhere.abort();
  closing.addEventListener("abort", onClosing, { once: true });
  void watchUnlock(client, unlockedElsewhere.signal).then(() => unlockedElsewhere.abort());
  const ask = (title: string, text: string, secret: boolean) => prompt(screen, router, { title, text, secret, dismissable: false, parent: cover, signal: unlockedElsewhere.signal });
  let problem = "";
  try {
    for (;;) {
      const status = await client.getStatus({});
      if (!status.locked || unlockedElsewhere.signal.aborted || closing.aborted) return;
      const note = problem ? `{red-fg}${safe(problem)}{/red-fg}\n` : "";
      try {
        if (!status.identityExists) {
          const name = (await ask("welcome to jarvis", `${note}Your name, as contacts will first see it:`, false))?.trim();
          if (!name) continue;
          const password = (await ask("choose a password", "8+ characters; it encrypts everything on this machine.", true)) ?? "";
          const again = await ask("type the password again", "The same password once more:", true);
          if (password !== again) {
            problem = "the two passwords differ; try again";
            continue;
          }
          await client.createIdentity({ name, password });
        } else {
          const password = (await ask("jarvis is locked", `${note}Password (Ctrl-Q quits):`, true)) ?? "";
          await client.unlock({ password });
        }
        problem = "";
      } catch (error) {
        problem = errorText(error);
      }
    }
  } finally {
    closing.removeEventListener("abort", onClosing);
    unlockedElsewhere.abort();
    cover.destroy();
    hide(false);
    screen.render();
  }
}

/** Resolves when the node is unlocked by someone else, or when `signal` ends the watch. */
async function watchUnlock(client: SessionClient, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await sleep(foregroundClock, 1_000, signal);
      if (!(await client.getStatus({}, { signal })).locked) return;
    } catch {
      if (signal.aborted) return;
    }
  }
}
