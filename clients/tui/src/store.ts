import { Presence, type Contact, type Group, type Message } from "@jarvis/proto/jarvis/session/v1/resources";
import type { SessionClient } from "./client.js";

export interface Conversation {
  id: string;
  title: string;
  presence: Presence;
  unread: number;
  isGroup: boolean;
}

/**
 * Client-side state, rebuilt from the session API and kept fresh by the event stream. It
 * holds nothing that matters: the TUI can die at any time and rebuild it on start.
 */
export class Store {
  #client: SessionClient;
  contacts: Contact[] = [];
  groups: Group[] = [];
  unread = new Map<string, number>();
  messages: Message[] = [];
  selected: string | undefined;
  selfUid = "";
  selfName = "";

  constructor(client: SessionClient) {
    this.#client = client;
  }

  conversations(): Conversation[] {
    return [
      ...this.contacts.map((c) => ({ id: c.uid, title: c.alias || c.name, presence: c.presence, unread: this.unread.get(c.uid) ?? 0, isGroup: false })),
      ...this.groups.map((g) => ({ id: g.id, title: `#${g.name}`, presence: g.presence, unread: this.unread.get(g.id) ?? 0, isGroup: true })),
    ];
  }

  nameOf(uid: string): string {
    if (uid === this.selfUid) return "me";
    const contact = this.contacts.find((c) => c.uid === uid);
    return contact ? contact.alias || contact.name : uid.slice(0, 8);
  }

  async refreshAll(): Promise<void> {
    const [status, contacts, groups, unread] = await Promise.all([
      this.#client.getStatus({}),
      this.#client.listContacts({}),
      this.#client.listGroups({}),
      this.#client.getUnreadCounts({}),
    ]);
    this.selfUid = status.uid;
    this.selfName = status.name;
    this.contacts = contacts.contacts;
    this.groups = groups.groups;
    this.unread = new Map(unread.counts.map((c) => [c.conversationId, c.unread]));
    if (!this.selected) this.selected = this.conversations()[0]?.id;
    await this.refreshMessages();
  }

  async refreshMessages(): Promise<void> {
    if (!this.selected) {
      this.messages = [];
      return;
    }
    this.messages = (await this.#client.listMessages({ conversation: this.selected, limit: 200 })).messages;
  }

  async select(id: string): Promise<void> {
    this.selected = id;
    await this.refreshMessages();
    if ((this.unread.get(id) ?? 0) > 0) await this.#client.markRead({ conversation: id });
  }

  async send(text: string): Promise<void> {
    if (!this.selected) throw new Error("pick a conversation first (add a contact with Ctrl-A)");
    await this.#client.sendMessage({ conversation: this.selected, text });
  }
}
