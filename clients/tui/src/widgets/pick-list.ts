import type blessed from "blessed";
import { safe } from "../text/display.js";
import type { KeyRouter } from "./keyboard.js";
import { openModal } from "./modal.js";

export interface PickItem {
  id: string;
  /** Shown as is after escaping (peer text is safe here). */
  label: string;
}

export interface PickOptions {
  title: string;
  /** Tagged text above the list. */
  text?: string;
  items: PickItem[];
  /** Checkboxes: Space toggles, Enter confirms the checked set. Otherwise Enter picks one. */
  multi?: boolean;
  /** Ids checked at the start (multi only). */
  checked?: string[];
}

/** The rows of a pick list: a cursor mark, a checkbox when multi, the label. Pure, for tests. */
export function pickRows(items: PickItem[], cursor: number, checked: ReadonlySet<string>, multi: boolean): string[] {
  return items.map((item, i) => {
    const here = i === cursor;
    const box = multi ? (checked.has(item.id) ? "[x] " : "[ ] ") : "";
    const row = `${here ? "›" : " "} ${box}${safe(item.label)}`;
    return here ? `{inverse}${row}{/inverse}` : row;
  });
}

/**
 * A keyboard list in a modal: Up/Down (or k/j) move, Space toggles a checkbox (multi), Enter
 * confirms, Escape cancels. Resolves the picked ids, or undefined when cancelled.
 */
export function pickList(screen: blessed.Widgets.Screen, router: KeyRouter, options: PickOptions): Promise<string[] | undefined> {
  const { items, multi = false } = options;
  const checked = new Set(options.checked ?? []);
  let cursor = 0;
  const help = multi ? "{cyan-fg}Space{/cyan-fg} toggle  {cyan-fg}Enter{/cyan-fg} done  {cyan-fg}Esc{/cyan-fg} cancel" : "{cyan-fg}Enter{/cyan-fg} pick  {cyan-fg}Esc{/cyan-fg} cancel";
  const content = () =>
    [options.text ? `${options.text}\n` : "", ...(items.length > 0 ? pickRows(items, cursor, checked, multi) : ["(nothing to pick)"]), "", help].join("\n");
  return new Promise((resolve) => {
    let result: string[] | undefined;
    const modal = openModal(screen, router, {
      title: options.title,
      content: content(),
      onClose: () => resolve(result),
      onKey: (ch, key) => {
        const k = key.name ?? "";
        if (k === "up" || ch === "k") cursor = Math.max(0, cursor - 1);
        else if (k === "down" || ch === "j") cursor = Math.min(items.length - 1, cursor + 1);
        else if (k === "space" || ch === " ") {
          const id = items[cursor]?.id;
          if (!multi || id === undefined) return true;
          if (!checked.delete(id)) checked.add(id);
        } else if (k === "enter" || k === "return") {
          const here = items[cursor];
          result = multi ? items.filter((i) => checked.has(i.id)).map((i) => i.id) : here ? [here.id] : undefined;
          modal.close();
          return true;
        } else return false;
        modal.setContent(content());
        return true;
      },
    });
  });
}
