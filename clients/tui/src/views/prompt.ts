import blessed from "blessed";

/**
 * A modal one-line question. With `dismissable: false` (the lock screen) Escape does
 * nothing: only an answer closes it.
 */
export function ask(screen: blessed.Widgets.Screen, label: string, options: { secret?: boolean; dismissable?: boolean } = {}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const previous = screen.focused;
    const box = blessed.box({ parent: screen, top: "center", left: "center", width: "80%", height: 5, border: "line", label: ` ${label} `, tags: false });
    const input = blessed.textbox({ parent: box, top: 1, left: 1, right: 1, height: 1, inputOnFocus: true, censor: options.secret ?? false });
    const finish = (value: string | undefined) => {
      box.destroy();
      previous?.focus();
      screen.render();
      resolve(value);
    };
    input.on("submit", (value: string) => finish(value));
    input.on("cancel", () => {
      if (options.dismissable === false) {
        input.focus();
        input.readInput();
        return;
      }
      finish(undefined);
    });
    input.focus();
    screen.render();
  });
}

export function flash(screen: blessed.Widgets.Screen, status: blessed.Widgets.BoxElement, text: string): void {
  status.setContent(blessed.escape(text));
  screen.render();
}
