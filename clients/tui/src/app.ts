import blessed from "blessed";
import { ConnectError } from "@connectrpc/connect";
import { Backoff, foregroundClock, sleep, type BackoffPolicy } from "@jarvis/core";
import type { SessionClient } from "./client.js";
import { Store } from "./store.js";
import { ask, flash } from "./views/prompt.js";
import { showContactDetails } from "./views/details.js";
import { clock, dot, safe, stateMark } from "./views/format.js";

export interface AppOptions {
  client: SessionClient;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  signal: AbortSignal;
}

const HELP = "Tab focus  Enter open/send  ^A add  ^D details/verify  ^G group  ^N link code  ^L lock  ^Q quit";

const message = (error: unknown) => (error instanceof ConnectError ? error.rawMessage : error instanceof Error ? error.message : String(error));

/**
 * The terminal UI: conversations on the left (presence dot, unread badge), the selected
 * conversation on the right, an input line, and a footer with keys. All state comes from the
 * session API and its event stream; nothing is kept here that a restart would lose.
 */
export async function runApp(options: AppOptions): Promise<number> {
  const { client } = options;
  const screen = blessed.screen({ smartCSR: true, fullUnicode: true, title: "jarvis", input: options.input as never, output: options.output as never });
  const store = new Store(client);
  const sidebar = blessed.list({
    parent: screen, label: " conversations ", top: 0, left: 0, width: "30%", bottom: 4, border: "line", tags: true, keys: true, vi: true,
    style: { selected: { inverse: true } },
  });
  const log = blessed.log({ parent: screen, label: " messages ", top: 0, left: "30%", right: 0, bottom: 4, border: "line", tags: true, scrollable: true, alwaysScroll: true, scrollbar: { ch: " " } });
  const input = blessed.textbox({ parent: screen, label: " message ", bottom: 1, left: 0, right: 0, height: 3, border: "line", inputOnFocus: true });
  const footer = blessed.box({ parent: screen, bottom: 0, left: 0, right: 0, height: 1, content: HELP, tags: false, style: { inverse: true } });
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (done = resolve));
  const quit = () => {
    screen.destroy();
    done(0);
  };
  options.signal.addEventListener("abort", quit, { once: true });

  const render = () => {
    const conversations = store.conversations();
    sidebar.setItems(conversations.map((c) => `${dot(c.presence)} ${safe(c.title)}${c.unread ? ` {bold}(${c.unread}){/bold}` : ""}`) as never);
    const index = conversations.findIndex((c) => c.id === store.selected);
    if (index >= 0) sidebar.select(index);
    const current = conversations[index];
    log.setLabel(current ? ` ${safe(current.title)} ` : " messages ");
    log.setContent(
      store.messages.map((m) => `{grey-fg}${clock(m.sentTime)}{/grey-fg} {bold}${safe(store.nameOf(m.senderUid))}{/bold}: ${safe(m.text)}${stateMark(m)}`).join("\n") ||
        (conversations.length === 0 ? "No contacts yet. Press Ctrl-N for your link code and Ctrl-A to add someone's." : ""),
    );
    log.setScrollPerc(100);
    screen.render();
  };
  const attempt = async (what: () => Promise<unknown>) => {
    try {
      await what();
      footer.setContent(HELP);
    } catch (error) {
      flash(screen, footer, `error: ${message(error)}`);
    }
    render();
  };

  if (!(await ensureUnlocked(screen, client))) {
    screen.destroy();
    return 1;
  }
  await store.refreshAll();
  render();

  sidebar.on("select", (_item, index) => {
    const target = store.conversations()[index];
    if (target) void attempt(() => store.select(target.id)).then(() => input.focus());
  });
  input.on("submit", (value: string) => {
    input.clearValue();
    if (value.trim()) void attempt(() => store.send(value));
    input.focus();
  });
  input.key(["tab"], () => sidebar.focus());
  sidebar.key(["tab"], () => input.focus());
  screen.key(["C-q", "C-c"], quit);
  input.key(["C-q", "C-c"], quit);
  const addContact = () =>
    ask(screen, "paste a jarvis:// link code").then(async (code) => {
      if (code) await attempt(() => client.addContact({ source: { case: "linkCode", value: code.trim() } }));
    });
  const newGroup = () =>
    ask(screen, "group name, then members: name alice bob").then(async (answer) => {
      const [name, ...members] = (answer ?? "").trim().split(/\s+/);
      if (name) await attempt(() => client.createGroup({ name, members }));
    });
  const showLink = () => void attempt(async () => flash(screen, footer, `your link code: ${(await client.getIdentity({})).identity?.linkCode ?? ""}`)).then(() => {});
  const lock = () =>
    attempt(async () => {
      await client.lock({});
      if (!(await ensureUnlocked(screen, client))) quit();
      await store.refreshAll();
    });
  // A modal needs the keyboard: stop the input line from reading first (blessed textboxes
  // grab every key while reading), then give it back when the modal is done.
  const modal = (action: () => Promise<unknown>) => () => {
    input.cancel();
    void action().finally(() => {
      // Re-focusing fires the focus event, which puts the input line back into reading mode.
      sidebar.focus();
      input.focus();
    });
  };
  const details = () =>
    attempt(async () => {
      const current = store.conversations().find((c) => c.id === store.selected);
      if (current && !current.isGroup) await showContactDetails(screen, client, current.id);
      await store.refreshAll();
    });
  for (const widget of [screen, input, sidebar]) {
    widget.key(["C-d"], modal(details));
    widget.key(["C-a"], modal(addContact));
    widget.key(["C-g"], modal(newGroup));
    widget.key(["C-n"], showLink);
    widget.key(["C-l"], modal(lock));
  }
  screen.on("resize", render);

  void followEvents(client, store, options.signal, render);
  input.focus();
  return finished;
}

/** Quick to come back after a daemon restart, and at most every 5 s while it stays away. */
const RESUBSCRIBE_BACKOFF: BackoffPolicy = { baseMs: 250, factor: 2, capMs: 5_000 };

async function followEvents(client: SessionClient, store: Store, signal: AbortSignal, render: () => void): Promise<void> {
  const backoff = new Backoff(RESUBSCRIBE_BACKOFF);
  while (!signal.aborted) {
    try {
      for await (const event of client.subscribe({ liveOnly: true }, { signal })) {
        backoff.reset();
        if (event.event.case === "identityLocked") continue;
        await store.refreshAll();
        render();
      }
    } catch {
      // locked or daemon restarting: try again after a backoff delay
    }
    try {
      await sleep(foregroundClock, backoff.next(), signal);
    } catch {
      return; // the TUI is closing
    }
  }
}

/** First run creates an identity; a locked node asks for the password until it is right. */
async function ensureUnlocked(screen: blessed.Widgets.Screen, client: SessionClient): Promise<boolean> {
  for (;;) {
    const status = await client.getStatus({});
    if (!status.locked) return true;
    try {
      if (!status.identityExists) {
        const name = await ask(screen, "welcome to jarvis: your name");
        if (name === undefined) return false;
        const password = await ask(screen, "choose a password (8+ characters)", { secret: true });
        if (password === undefined) return false;
        await client.createIdentity({ name, password });
      } else {
        const password = await ask(screen, "locked: password", { secret: true, dismissable: false });
        if (password === undefined) return false;
        await client.unlock({ password });
      }
    } catch (error) {
      await ask(screen, `${message(error)} (Enter to retry)`);
    }
  }
}
