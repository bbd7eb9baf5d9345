import { toJson } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { sanitizeForTerminal } from "@jarvis/core";
import { MessageState, Presence, type Contact, type Group, type GroupMember, type Message } from "@jarvis/proto/jarvis/session/v1/resources";
import { SubscribeResponseSchema, type SubscribeResponse } from "@jarvis/proto/jarvis/session/v1/session_service";

/** The stable JSON shapes of design §7, and safe text for terminals. */

const STATE_NAMES: Record<number, string> = {
  [MessageState.QUEUED]: "queued",
  [MessageState.SENT]: "sent",
  [MessageState.DELIVERED]: "delivered",
  [MessageState.READ]: "read",
  [MessageState.FAILED]: "failed",
  [MessageState.RECEIVED]: "received",
};

const PRESENCE_NAMES: Record<number, string> = {
  [Presence.GREEN]: "green",
  [Presence.AMBER]: "amber",
  [Presence.RED]: "red",
  [Presence.GREY]: "grey",
};

export const stateName = (state: MessageState) => STATE_NAMES[state] ?? "unknown";
export const presenceName = (presence: Presence) => PRESENCE_NAMES[presence] ?? "grey";
const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : "");

export function messageJson(m: Message) {
  return {
    id: m.id,
    conversation: m.conversationId,
    from: m.senderUid,
    outgoing: m.outgoing,
    text: m.text,
    state: stateName(m.state),
    sentAt: iso(m.sentTime),
    receivedAt: iso(m.receivedTime),
    position: Number(m.position),
  };
}

export function contactJson(c: Contact) {
  return {
    uid: c.uid,
    name: c.name,
    alias: c.alias,
    fingerprint: c.fingerprint,
    verified: c.verified,
    state: presenceName(c.presence),
    addresses: c.addresses,
    receipts: c.sendReceipts,
    claimedName: c.claimedName,
  };
}

export function groupJson(g: Group) {
  return { id: g.id, name: g.name, members: g.memberUids, admins: g.adminUids, creator: g.creatorUid, state: presenceName(g.presence) };
}

/** One `watch --json` line: cursor, type (snake_case), and the event's fields. */
export function eventJson(response: SubscribeResponse): Record<string, unknown> {
  const event = response.event;
  const base = { cursor: Number(response.cursor), time: iso(response.eventTime) };
  switch (event.case) {
    case "messageReceived":
    case "messageCreated":
      return { ...base, type: snake(event.case), message: event.value.message ? messageJson(event.value.message) : null };
    case "messageStateChanged":
      return { ...base, type: "message_state_changed", id: event.value.messageId, conversation: event.value.conversationId, state: stateName(event.value.state) };
    case "contactAdded":
    case "contactChanged":
      return { ...base, type: snake(event.case), contact: event.value.contact ? contactJson(event.value.contact) : null };
    case "presenceChanged":
      return { ...base, type: "presence_changed", uid: event.value.uid, state: presenceName(event.value.presence) };
    case "groupChanged":
      return { ...base, type: "group_changed", group: event.value.group ? groupJson(event.value.group) : null };
    case undefined:
      return { ...base, type: "unknown" };
    default: {
      const json = toJson(SubscribeResponseSchema, response) as Record<string, unknown>;
      return { ...base, type: snake(event.case), ...(json[event.case] as Record<string, unknown>) };
    }
  }
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * JSON.stringify escapes C0 controls but not DEL, C1 controls or bidi overrides, which a
 * terminal may still act on; we escape those too so peer text stays inert.
 */
/**
 * JSON for scripts that may still end up on a terminal: JSON.stringify already escapes C0
 * controls (ESC included); this also escapes DEL, the C1 controls and every bidi or line
 * separator the sanitiser removes, so `jarvis history --json` printed raw is inert too.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export const printable = (text: string) => sanitizeForTerminal(text);

export function formatTime(t: Timestamp | undefined): string {
  if (!t) return "";
  const d = timestampDate(t);
  return `${d.toISOString().slice(0, 10)} ${d.toTimeString().slice(0, 5)}`;
}

/**
 * What to call each sender, told apart (names are local, design §5): a contact by its alias or
 * the name it was added under; a member known only through a group by the name on its card,
 * marked "~" as a claim. Whenever two would read the same, or one reads like "me" or our own
 * name, each gets its short uid, so no peer can pass for another in history.
 */
export function senderLabels(contacts: Contact[], members: GroupMember[], ownName: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const c of contacts) entries.set(c.uid, c.alias || c.name);
  for (const m of members) if (!entries.has(m.uid) && m.name) entries.set(m.uid, `~${m.name}`);
  const key = (name: string) => name.replace(/^~/, "").trim().toLowerCase();
  const counts = new Map<string, number>();
  for (const name of entries.values()) counts.set(key(name), (counts.get(key(name)) ?? 0) + 1);
  const reserved = new Set(["me", key(ownName)]);
  const labels = new Map<string, string>();
  for (const [uid, name] of entries) {
    const clash = (counts.get(key(name)) ?? 0) > 1 || reserved.has(key(name)) || name.startsWith("~");
    labels.set(uid, printable(clash ? `${name} (${uid.slice(0, 8)})` : name));
  }
  return labels;
}
