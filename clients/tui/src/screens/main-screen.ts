import blessed from "blessed";
import { Presence } from "@jarvis/proto/jarvis/session/v1/resources";
import { FOOTER } from "../keys.js";
import type { Conversation } from "../state/store.js";
import { displayText, pad, safe, truncate, width } from "../text/display.js";
import type { InputLine } from "../widgets/input-line.js";

export type Pane = "list" | "input";

export interface MainView {
  conversations: Conversation[];
  selected: string | undefined;
  title: string;
  rows: string[];
  /** Rows scrolled up from the newest (0 = following the conversation). */
  scroll: number;
  status: string;
  focus: Pane;
  input: InputLine;
  notice: string;
}

const DOTS: Record<Presence, string> = {
  [Presence.GREEN]: "{green-fg}●{/green-fg}",
  [Presence.AMBER]: "{yellow-fg}●{/yellow-fg}",
  [Presence.RED]: "{red-fg}●{/red-fg}",
  [Presence.GREY]: "{white-fg}○{/white-fg}",
  [Presence.UNSPECIFIED]: "{white-fg}○{/white-fg}",
};

/** The main screen's widgets; draws a MainView and knows nothing about the session API. */
export class MainScreen {
  readonly root: blessed.Widgets.BoxElement;
  readonly #status: blessed.Widgets.BoxElement;
  readonly #list: blessed.Widgets.BoxElement;
  readonly #chat: blessed.Widgets.BoxElement;
  readonly #input: blessed.Widgets.BoxElement;
  readonly #footer: blessed.Widgets.BoxElement;

  constructor(screen: blessed.Widgets.Screen) {
    this.root = blessed.box({ parent: screen, top: 0, left: 0, width: "100%", height: "100%" });
    const box = (opts: blessed.Widgets.BoxOptions) => blessed.box({ parent: this.root, tags: true, wrap: false, ...opts });
    this.#status = box({ top: 0, left: 0, right: 0, height: 1, style: { bg: "blue", fg: "white" } });
    this.#list = box({ top: 1, left: 0, width: "30%", bottom: 4, border: "line", label: " chats " });
    this.#chat = box({ top: 1, left: "30%", right: 0, bottom: 4, border: "line" });
    this.#input = box({ bottom: 1, left: 0, right: 0, height: 3, border: "line" });
    this.#footer = box({ bottom: 0, left: 0, right: 0, height: 1, style: { bg: "blue", fg: "white" } });
  }

  /** Rows the conversation pane shows at once. */
  chatHeight(): number {
    return Math.max(1, (this.#chat.height as number) - 2);
  }

  chatWidth(): number {
    return Math.max(10, (this.#chat.width as number) - 2);
  }

  render(view: MainView): void {
    const screenWidth = this.root.width as number;
    // Notices go to the status bar, so the keys in the footer are always visible.
    const notice = view.notice ? ` · {yellow-fg}${safe(truncate(displayText(view.notice), Math.max(8, screenWidth - width(view.status) - 3)))}{/yellow-fg}` : "";
    this.#status.setContent(safe(truncate(view.status, screenWidth)) + notice);
    this.#footer.setContent(blessed.escape(truncate(` ${FOOTER}`, screenWidth)));

    const listInner = Math.max(4, (this.#list.width as number) - 2);
    this.#list.setContent(
      view.conversations
        .map((c) => {
          const badge = c.unread ? ` (${c.unread})` : "";
          const name = pad(displayText(c.title), Math.max(1, listInner - 2 - width(badge)));
          const line = `${DOTS[c.presence]} ${blessed.escape(name)}{bold}${badge}{/bold}`;
          return c.id === view.selected ? `{inverse}${line}{/inverse}` : line;
        })
        .join("\n") || "{yellow-fg}no contacts yet{/yellow-fg}",
    );
    const focusColour = (pane: Pane) => (view.focus === pane ? "cyan" : "white");
    this.#list.style.border = { fg: focusColour("list") };
    this.#input.style.border = { fg: focusColour("input") };

    const height = this.chatHeight();
    const end = Math.max(0, view.rows.length - view.scroll);
    const shown = view.rows.slice(Math.max(0, end - height), end);
    this.#chat.setLabel(` ${safe(truncate(view.title, Math.max(4, this.chatWidth() - 2)))}${view.scroll ? " (scrolled: End)" : ""} `);
    this.#chat.setContent(shown.join("\n"));
    this.#input.setLabel(view.selected ? " message " : " message (pick a conversation first) ");
    this.#input.setContent(blessed.escape(view.input.view(Math.max(4, screenWidth - 2))));
  }
}
