import blessed from "blessed";
import { InputLine } from "./input-line.js";
import type { KeyHandler, KeyRouter } from "./keyboard.js";

export interface ModalOptions {
  title: string;
  /** Tagged content (callers escape peer text with safe()). */
  content?: string;
  width?: number | string;
  height?: number | string;
  /** Keys for this modal; Escape closes it unless the handler used it. */
  onKey?: KeyHandler;
  onClose?: () => void;
}

export interface Modal {
  box: blessed.Widgets.BoxElement;
  setContent(content: string): void;
  close(): void;
}

/** A centred box that owns the keyboard until it is closed. */
export function openModal(screen: blessed.Widgets.Screen, router: KeyRouter, options: ModalOptions): Modal {
  const box = blessed.box({
    parent: screen, top: "center", left: "center", width: options.width ?? "80%", height: options.height ?? "shrink",
    border: "line", label: ` ${options.title} `, tags: true, content: options.content ?? "", padding: { left: 1, right: 1 },
    style: { border: { fg: "cyan" } },
  });
  let closed = false;
  const release = router.push((ch, key) => {
    if (options.onKey?.(ch, key)) return true;
    if (key.name === "escape") modal.close();
    return true;
  });
  const modal: Modal = {
    box,
    setContent(content) {
      box.setContent(content);
      screen.render();
    },
    close() {
      if (closed) return;
      closed = true;
      release();
      box.destroy();
      screen.render();
      options.onClose?.();
    },
  };
  screen.render();
  return modal;
}

export interface PromptOptions {
  title: string;
  /** Tagged lines shown above the input. */
  text?: string;
  secret?: boolean;
  /** false: Escape does not close it (the lock screen); quitting still works. */
  dismissable?: boolean;
  value?: string;
  parent?: blessed.Widgets.Node;
  /** Closes the prompt (resolving undefined) when aborted. */
  signal?: AbortSignal;
}

/** Asks for one line; resolves undefined when dismissed with Escape. */
export function prompt(screen: blessed.Widgets.Screen, router: KeyRouter, options: PromptOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const line = new InputLine({ secret: options.secret, value: options.value });
    const textLines = (options.text ? options.text.split("\n").length + 1 : 0) + (options.dismissable === false ? 1 : 0);
    const box = blessed.box({
      parent: options.parent ?? screen, top: "center", left: "center", width: "80%", height: textLines + 3,
      border: "line", label: ` ${options.title} `, tags: true, padding: { left: 1, right: 1 }, style: { border: { fg: "cyan" } },
    });
    const render = () => {
      const inner = Math.max(4, (box.width as number) - 4);
      box.setContent(`${options.text ? `${options.text}\n\n` : ""}${blessed.escape(line.view(inner))}${hint}`);
      screen.render();
    };
    let hint = "";
    const finish = (value: string | undefined) => {
      options.signal?.removeEventListener("abort", aborted);
      release();
      box.destroy();
      screen.render();
      resolve(value);
    };
    const release = router.push((ch, key) => {
      if (key.name === "escape") {
        if (options.dismissable !== false) {
          finish(undefined);
          return true;
        }
        hint = "\n{yellow-fg}This cannot be closed without the password. Ctrl-Q quits.{/yellow-fg}";
        render();
        return true;
      }
      const result = line.handle(ch, key);
      if (result === "submit") finish(line.value);
      else if (result) render();
      return true;
    });
    const aborted = () => finish(undefined);
    if (options.signal?.aborted) return finish(undefined);
    options.signal?.addEventListener("abort", aborted, { once: true });
    render();
  });
}
