import { randomUUID } from "node:crypto";
import blessed from "blessed";
import type { Message } from "@jarvis/proto/jarvis/session/v1/resources";
import type { SessionClient } from "./client.js";
import { notify } from "./notify.js";
import { errorText, unlockOrCreate } from "./screens/auth.js";
import { addContact, contactDetails } from "./screens/contact-dialogs.js";
import type { DialogContext } from "./screens/context.js";
import { conversationRows, type PendingText } from "./screens/conversation-lines.js";
import { groupDetails, newGroup } from "./screens/group-dialogs.js";
import { showLinkCode, showSettings } from "./screens/identity-dialogs.js";
import { showHelp, showPeers } from "./screens/info-dialogs.js";
import { MainScreen, type Pane } from "./screens/main-screen.js";
import { Store } from "./state/store.js";
import { Sync } from "./state/sync.js";
import { installWidthTable } from "./text/blessed-width.js";
import { InputLine } from "./widgets/input-line.js";
import { KeyRouter, type Key } from "./widgets/keyboard.js";

export interface AppOptions {
  client: SessionClient;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  signal: AbortSignal;
  /** Desktop notifications (off with JARVIS_NOTIFY=0 or in settings). */
  notifications?: boolean;
}

const PAGE = 50;

/** The terminal UI: wires the store, the event stream, the main screen and the dialogs. */
export async function runApp(options: AppOptions): Promise<number> {
  installWidthTable();
  const { client } = options;
  const screen = blessed.screen({ smartCSR: true, fullUnicode: true, title: "jarvis", input: options.input as never, output: options.output as never });
  // Bracketed paste: a pasted newline arrives marked, so it stays in the message.
  screen.program.write("\x1b[?2004h");
  const stop = new AbortController();
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (done = resolve));
  const quit = () => {
    if (stop.signal.aborted) return;
    stop.abort();
    screen.program.write("\x1b[?2004l");
    screen.destroy();
    done(0);
  };
  options.signal.addEventListener("abort", quit, { once: true });
  const router = new KeyRouter(screen, quit);
  const store = new Store();
  const main = new MainScreen(screen);
  const input = new InputLine();
  // Each typed message carries its own idempotency key, reused on every resend: if the daemon
  // stored it but died before answering, the resend returns that message instead of a copy.
  const pending: (PendingText & { conversation: string; key: string })[] = [];
  let selected: string | undefined;
  let focus: Pane = "input";
  let scroll = 0;
  let connected = false;
  let locked = false;
  let notice = "";
  const settings = { notifications: options.notifications ?? true };

  const render = () => {
    if (stop.signal.aborted) return;
    const conversations = store.conversations();
    if (!selected || !conversations.some((c) => c.id === selected)) selected = conversations[0]?.id;
    const current = conversations.find((c) => c.id === selected);
    // Lay out only the newest messages the view can reach: every message takes at least one
    // row, so scroll + height + 1 of them fill the pane. Laying out the whole history on every
    // event made a busy open conversation quadratic (seconds per event at a few thousand).
    const messages = selected ? store.history(selected).messages : [];
    const reach = scroll + main.chatHeight() + 1;
    const rows = selected ? conversationRows(messages.slice(-reach), pending.filter((p) => p.conversation === selected), (uid) => store.nameOf(uid), main.chatWidth()) : [];
    const online = [...store.contacts.values()].filter((c) => c.presence === 1).length;
    const link = connected ? "connected" : "reconnecting… (typed text is kept)";
    main.render({
      conversations, selected, rows, scroll: Math.min(scroll, Math.max(0, rows.length - main.chatHeight())), focus, input, notice,
      title: current ? current.title : "no conversation",
      status: ` jarvis · ${store.selfName || "?"} · ${online}/${store.contacts.size} online · ${locked ? "locked" : "unlocked"} · ${link}`,
    });
    screen.render();
  };
  // Events arrive in bursts; one render per turn shows them all.
  let renderQueued = false;
  const renderSoon = () => {
    if (renderQueued) return;
    renderQueued = true;
    setImmediate(() => {
      renderQueued = false;
      render();
    });
  };
  const say = (text: string) => {
    notice = text;
    render();
  };
  const ctx: DialogContext = { screen, router, client, store, notice: say, settings };
  const guard = (action: () => Promise<void> | void) => () => {
    notice = "";
    void Promise.resolve()
      .then(action)
      .catch((error: unknown) => say(errorText(error)))
      .finally(render);
  };

  /** Newest page when a conversation is first opened; it then stays current from events. */
  const open = async (id: string | undefined) => {
    selected = id;
    scroll = 0;
    if (!id) return render();
    if (store.history(id).messages.length === 0 && store.history(id).hasMore) {
      const page = await client.listMessages({ conversation: id, limit: PAGE });
      store.addPage(id, page.messages, page.hasMore);
    }
    render();
    if ((store.unread.get(id) ?? 0) > 0 && !locked) await client.markRead({ conversation: id });
  };
  const loadOlder = async () => {
    if (!selected) return;
    const h = store.history(selected);
    if (!h.hasMore || h.messages.length === 0) return;
    const page = await client.listMessages({ conversation: selected, before: h.messages[0]!.position, limit: PAGE });
    store.addPage(selected, page.messages, page.hasMore);
  };
  const scrollBy = async (rows: number) => {
    scroll = Math.max(0, scroll + rows);
    const total = conversationRows(store.history(selected ?? "").messages, [], (u) => store.nameOf(u), main.chatWidth()).length;
    if (scroll + main.chatHeight() >= total) await loadOlder();
    render();
  };
  /** Sends what the daemon did not take yet, oldest first; stops at the first failure. */
  const flushPending = async () => {
    while (pending.length > 0 && connected) {
      const next = pending[0]!;
      try {
        await client.sendMessage({ conversation: next.conversation, text: next.text, idempotencyKey: next.key });
        pending.shift();
      } catch (error) {
        return say(`not sent yet: ${errorText(error)}`);
      }
    }
    render();
  };

  // Reading the open conversation marks it read, so the sender sees "read". One MarkRead at a
  // time: messages that arrive while it runs are covered by one more call after it.
  let marking: string | undefined;
  let markAgain = false;
  const markOpenRead = (conversation: string) => {
    if (marking === conversation) return void (markAgain = true);
    marking = conversation;
    markAgain = false;
    void client
      .markRead({ conversation })
      .catch(() => {})
      .finally(() => {
        marking = undefined;
        if (markAgain && conversation === selected && !locked) markOpenRead(conversation);
      });
  };
  store.onIncoming = (m: Message) => {
    if (m.conversationId === selected && !locked) markOpenRead(m.conversationId);
    else if (settings.notifications) notify(`jarvis: ${store.nameOf(m.senderUid)}`, m.text);
  };

  const lockNow = async () => {
    // Hide at once; the lock screen follows when the stream reports the lock.
    locked = true;
    main.root.hide();
    screen.render();
    await client.lock({});
  };
  const sync = new Sync(client, store, {
    unlock: async () => {
      locked = true;
      connected = true;
      await unlockOrCreate(screen, router, client, (hidden) => (hidden ? main.root.hide() : main.root.show()), stop.signal);
      if (stop.signal.aborted) return;
      locked = false;
      render();
    },
    connection: (up, reason) => {
      connected = up;
      if (up) {
        // The stream only opens on an unlocked node: clear the flag here too, since an unlock
        // screen that threw (daemon restarting, or unlocked elsewhere) never reached `locked = false`.
        locked = false;
        notice = "";
        if (selected && store.history(selected).messages.length === 0) void open(selected).catch(() => {});
        void flushPending();
      } else notice = `daemon unreachable (${reason ?? "?"}); retrying`;
      render();
    },
    changed: renderSoon,
  });

  const onMainKey = (ch: string | undefined, key: Key) => {
    const k = key.full ?? key.name ?? "";
    const actions: Record<string, () => void> = {
      "C-a": guard(() => addContact(ctx)),
      "C-n": guard(() => showLinkCode(ctx)),
      "C-g": guard(() => newGroup(ctx)),
      "C-s": guard(() => showSettings(ctx)),
      "C-p": guard(() => showPeers(ctx)),
      "C-l": guard(lockNow),
      "C-d": guard(() => (selected ? (store.groups.has(selected) ? groupDetails(ctx, selected) : contactDetails(ctx, selected)) : undefined)),
      f1: () => showHelp(ctx),
      tab: () => ((focus = focus === "list" ? "input" : "list"), render()),
      "S-tab": () => ((focus = focus === "list" ? "input" : "list"), render()),
      pageup: guard(() => scrollBy(main.chatHeight() - 1)),
      pagedown: guard(() => scrollBy(-(main.chatHeight() - 1))),
      home: guard(async () => {
        while (store.history(selected ?? "").hasMore && selected) await loadOlder();
        scroll = Number.MAX_SAFE_INTEGER;
      }),
      end: () => ((scroll = 0), render()),
    };
    const action = actions[k];
    if (action) return action();
    if (focus === "list") {
      const list = store.conversations();
      const at = list.findIndex((c) => c.id === selected);
      if (k === "up" || k === "k") return guard(() => open(list[Math.max(0, at - 1)]?.id))();
      if (k === "down" || k === "j") return guard(() => open(list[Math.min(list.length - 1, at + 1)]?.id))();
      if (k === "enter" || k === "return") return ((focus = "input"), render());
      if (ch === "?") return showHelp(ctx);
      return;
    }
    const result = input.handle(ch, key);
    if (result === "submit") {
      const text = input.value;
      if (!text.trim()) return;
      if (!selected) return say("pick a conversation first: Tab, then Up/Down (or Ctrl-A to add a contact)");
      input.clear();
      scroll = 0;
      pending.push({ conversation: selected, text, key: randomUUID() });
      if (connected) void flushPending();
      else render();
    } else if (result) render();
  };
  router.push(onMainKey);
  screen.on("resize", render);
  render();
  void sync.run(stop.signal).then(() => undefined);
  return finished;
}
