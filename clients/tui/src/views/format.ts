import blessed from "blessed";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { sanitizeForTerminal } from "@jarvis/core";
import { MessageState, Presence, type Message } from "@jarvis/proto/jarvis/session/v1/resources";

/** Peer text is data: control characters removed, blessed tags escaped, before it is drawn. */
export const safe = (text: string) => blessed.escape(sanitizeForTerminal(text));

export function dot(presence: Presence): string {
  switch (presence) {
    case Presence.GREEN:
      return "{green-fg}●{/green-fg}";
    case Presence.AMBER:
      return "{yellow-fg}●{/yellow-fg}";
    case Presence.RED:
      return "{red-fg}●{/red-fg}";
    default:
      return "{grey-fg}●{/grey-fg}";
  }
}

export function stateMark(message: Message): string {
  if (!message.outgoing) return "";
  switch (message.state) {
    case MessageState.QUEUED:
      return " {grey-fg}…{/grey-fg}";
    case MessageState.SENT:
      return " ✓";
    case MessageState.DELIVERED:
      return " ✓✓";
    case MessageState.READ:
      return " {cyan-fg}read{/cyan-fg}";
    case MessageState.FAILED:
      return " {red-fg}failed{/red-fg}";
    default:
      return "";
  }
}

export function clock(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toTimeString().slice(0, 5) : "--:--";
}
