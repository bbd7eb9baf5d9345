import blessed from "blessed";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { MessageState, type Message } from "@jarvis/proto/jarvis/session/v1/resources";
import { displayLines, displayText, width, wrap } from "../text/display.js";

export interface PendingText {
  text: string;
}

const dateOf = (t: Timestamp | undefined) => (t ? timestampDate(t) : new Date(0));
const two = (n: number) => String(n).padStart(2, "0");
export const clock = (d: Date) => `${two(d.getHours())}:${two(d.getMinutes())}`;
const dayKey = (d: Date) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
const dayLabel = (d: Date) => d.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", year: "numeric" });

/** Colours chosen to be readable on dark and light backgrounds (no grey/black). */
export function stateMark(message: Message): string {
  if (!message.outgoing) return "";
  switch (message.state) {
    case MessageState.QUEUED:
      return " {yellow-fg}queued{/yellow-fg}";
    case MessageState.SENT:
      return " {green-fg}✓{/green-fg}";
    case MessageState.DELIVERED:
      return " {green-fg}✓✓{/green-fg}";
    case MessageState.READ:
      return " {cyan-fg}✓✓ read{/cyan-fg}";
    case MessageState.FAILED:
      return " {red-fg}failed{/red-fg}";
    default:
      return "";
  }
}
const markWidth = (message: Message) => width(stateMark(message).replace(/\{[^}]*\}/g, ""));

/**
 * The conversation as screen rows of exactly `columns` cells or fewer: a day separator when
 * the date changes, then `HH:MM name: text` with the delivery mark; long text wraps under
 * itself. Every row is measured with the width library, so nothing spills over a border.
 */
export function conversationRows(messages: Message[], pending: PendingText[], nameOf: (uid: string) => string, columns: number): string[] {
  const rows: string[] = [];
  let lastDay = "";
  const emit = (time: string, name: string, nameTag: string, text: string, mark: string, markCells: number) => {
    const head = `${time} ${displayText(name)}: `;
    const indent = Math.min(width(head), Math.floor(columns / 2));
    const body: string[] = [];
    for (const line of displayLines(text)) body.push(...wrap(line, Math.max(1, columns - indent)));
    // Put the mark on the last row when it fits there, else on a row of its own.
    const lastFits = width(body.at(-1) ?? "") + markCells <= columns - indent;
    body.forEach((part, i) => {
      const prefix = i === 0 ? `{cyan-fg}${time}{/cyan-fg} {${nameTag}}${blessed.escape(displayText(name))}{/${nameTag}}: ` : " ".repeat(indent);
      rows.push(`${prefix}${blessed.escape(part)}${i === body.length - 1 && lastFits ? mark : ""}`);
    });
    if (!lastFits && mark) rows.push(`${" ".repeat(indent)}${mark.trimStart()}`);
  };
  for (const m of messages) {
    const sent = dateOf(m.sentTime);
    if (dayKey(sent) !== lastDay) {
      lastDay = dayKey(sent);
      const label = ` ${dayLabel(sent)} `;
      const side = Math.max(0, Math.floor((columns - width(label)) / 2));
      rows.push(`{magenta-fg}${"─".repeat(side)}${label}${"─".repeat(Math.max(0, columns - side - width(label)))}{/magenta-fg}`);
    }
    emit(clock(sent), nameOf(m.senderUid), m.outgoing ? "green-fg" : "bold", m.text, stateMark(m), markWidth(m));
  }
  for (const p of pending) emit(clock(new Date()), "me", "green-fg", p.text, " {yellow-fg}not sent yet{/yellow-fg}", 13);
  return rows;
}
