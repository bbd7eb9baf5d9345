import { Presence, type Contact, type Group, type Message } from "@jarvis/proto/jarvis/session/v1/resources";
import type { SubscribeResponse } from "@jarvis/proto/jarvis/session/v1/session_service";

export interface Conversation {
  id: string;
  title: string;
  presence: Presence;
  unread: number;
  isGroup: boolean;
}

export interface History {
  messages: Message[];
  /** Older messages exist on the server that are not loaded yet. */
  hasMore: boolean;
}

export interface Snapshot {
  selfUid: string;
  selfName: string;
  contacts: Contact[];
  groups: Group[];
  unread: { conversationId: string; unread: number }[];
}

/**
 * What the TUI knows, kept current by applying each event's payload (no reloads). `cursor`
 * is the last event applied: after a reconnect the stream resumes right after it.
 * Applying is idempotent (messages are keyed by id), so an event seen twice changes nothing.
 */
export class Store {
  selfUid = "";
  selfName = "";
  cursor = 0n;
  readonly contacts = new Map<string, Contact>();
  readonly groups = new Map<string, Group>();
  readonly unread = new Map<string, number>();
  readonly histories = new Map<string, History>();
  /** Called with the conversation of each new incoming message (notifications, mark read). */
  onIncoming: (message: Message) => void = () => {};

  loadSnapshot(snapshot: Snapshot): void {
    this.selfUid = snapshot.selfUid;
    this.selfName = snapshot.selfName;
    this.contacts.clear();
    for (const c of snapshot.contacts) this.contacts.set(c.uid, c);
    this.groups.clear();
    for (const g of snapshot.groups) this.groups.set(g.id, g);
    this.#setUnread(snapshot.unread);
  }

  conversations(): Conversation[] {
    const contacts = [...this.contacts.values()].map((c) => ({ id: c.uid, title: this.listName(c), presence: c.presence, unread: this.unread.get(c.uid) ?? 0, isGroup: false }));
    const groups = [...this.groups.values()].map((g) => ({ id: g.id, title: `#${g.name}`, presence: g.presence, unread: this.unread.get(g.id) ?? 0, isGroup: true }));
    const byTitle = (a: Conversation, b: Conversation) => a.title.localeCompare(b.title);
    return [...contacts.sort(byTitle), ...groups.sort(byTitle)];
  }

  /**
   * The name to show for a uid: the local alias or name, told apart with a uid prefix when
   * two contacts would show the same, and "me" for ourselves.
   */
  nameOf(uid: string): string {
    if (uid === this.selfUid) return "me";
    const contact = this.contacts.get(uid);
    if (!contact) return uid.slice(0, 8);
    const shown = contact.alias || contact.name;
    // "me" is what we call ourselves, so a contact called "me" (or by our own name) is told
    // apart too, whatever the letter case: a peer cannot pass its words off as ours.
    const mine = (name: string) => name.toLowerCase() === "me" || name.toLowerCase() === this.selfName.toLowerCase();
    const clash = [...this.contacts.values()].some((c) => c.uid !== uid && (c.alias || c.name) === shown) || mine(shown);
    return clash ? `${shown}~${uid.slice(0, 6)}` : shown;
  }

  /** The list's title: nameOf, plus the name the contact now claims when that differs (in quotes: a claim). */
  listName(c: Contact): string {
    const shown = this.nameOf(c.uid);
    const claimed = c.claimedName.trim();
    return claimed && claimed !== c.name && claimed !== c.alias ? `${shown} "${claimed}"` : shown;
  }

  history(conversation: string): History {
    let h = this.histories.get(conversation);
    if (!h) this.histories.set(conversation, (h = { messages: [], hasMore: true }));
    return h;
  }

  /** Adds a page of messages (from ListMessages) without duplicating any. */
  addPage(conversation: string, page: Message[], hasMore: boolean): void {
    const h = this.history(conversation);
    for (const m of page) this.#putMessage(h, m);
    h.hasMore = hasMore;
  }

  /** Applies one event. Returns false for events that need nothing redrawn. */
  apply(event: SubscribeResponse): boolean {
    if (event.cursor > this.cursor) this.cursor = event.cursor;
    const e = event.event;
    switch (e.case) {
      case "messageReceived":
      case "messageCreated": {
        const m = e.value.message;
        if (!m) return false;
        const fresh = this.#putMessage(this.history(m.conversationId), m);
        if (fresh && e.case === "messageReceived") this.onIncoming(m);
        return true;
      }
      case "messageStateChanged": {
        const m = this.histories.get(e.value.conversationId)?.messages.find((x) => x.id === e.value.messageId);
        if (m) m.state = e.value.state;
        return m !== undefined;
      }
      case "contactAdded":
      case "contactChanged":
        if (e.value.contact) this.contacts.set(e.value.contact.uid, e.value.contact);
        return true;
      case "contactRemoved":
        this.contacts.delete(e.value.uid);
        this.histories.delete(e.value.uid);
        return true;
      case "presenceChanged": {
        const c = this.contacts.get(e.value.uid);
        if (c) c.presence = e.value.presence;
        return c !== undefined;
      }
      case "groupChanged":
        if (e.value.group) this.groups.set(e.value.group.id, e.value.group);
        return true;
      case "groupRemoved":
        this.groups.delete(e.value.groupId);
        this.histories.delete(e.value.groupId);
        return true;
      case "unreadCountsChanged":
        this.#setUnread(e.value.counts);
        return true;
      default:
        return false;
    }
  }

  #setUnread(counts: { conversationId: string; unread: number }[]): void {
    this.unread.clear();
    for (const c of counts) if (c.unread > 0) this.unread.set(c.conversationId, c.unread);
  }

  /** Inserts in position order; returns false when the message was already there. */
  #putMessage(h: History, m: Message): boolean {
    const existing = h.messages.findIndex((x) => x.id === m.id);
    if (existing >= 0) {
      h.messages[existing] = m;
      return false;
    }
    let at = h.messages.length;
    while (at > 0 && h.messages[at - 1]!.position > m.position) at--;
    h.messages.splice(at, 0, m);
    return true;
  }
}

export const isOnline = (p: Presence) => p === Presence.GREEN;
