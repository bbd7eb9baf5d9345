import { InvalidArgumentError, parseHostPort, uidFromPublicKey } from "@jarvis/core";
import type { Card, ContactView, GroupView, Identity, Message, Presence, StoredEvent, UnreadCount } from "../model.js";
import type { PeerHealth } from "../peer-network.js";
import { decodeLinkCode, validateCard } from "../contacts/card-codec.js";
import type { ContactCard } from "@jarvis/proto/jarvis/peer/v1/card";
import { IdentityLifecycle, type SessionOptions } from "./identity-lifecycle.js";
import type { UnlockedSession } from "./unlocked-session.js";
import { pipelineSends, type StreamedSend, type StreamedSendOutcome } from "./send-stream.js";
import type { Conversation } from "./conversation-ref.js";
import { sendOnce } from "./idempotent-send.js";
import { DEFAULT_PAGE, MAX_PAGE, SEND_STREAM_WINDOW } from "../constants.js";

export type ContactSource = { linkCode: string } | { card: ContactCard };

export interface PeerView {
  uid: string;
  name: string;
  presence: Presence;
  address: string;
  health: PeerHealth | undefined;
}

export interface PageQuery {
  before: number;
  after: number;
  limit: number;
}

/**
 * The session's use cases, as the RPC routes (and tests) call them: argument rules, lookups
 * by what a person types, and the call into the right service. Plain domain types in and out.
 */
export class SessionApp extends IdentityLifecycle {
  #network: SessionOptions["network"];

  constructor(options: SessionOptions) {
    super(options);
    this.#network = options.network;
  }

  identity(): { identity: Identity; card: Card } {
    const u = this.requireUnlocked();
    return { identity: u.identity, card: u.ownCard() };
  }

  /**
   * Sets the host:port put on our card (link code, card files, Hello), kept in the store;
   * "" returns to the start option (--advertise) or the listener's addresses.
   */
  setAdvertisedAddress(address: string): { identity: Identity; card: Card } {
    const u = this.requireUnlocked();
    const clean = address.trim();
    if (clean) parseHostPort(clean);
    u.setAdvertise(clean);
    return this.identity();
  }

  addContact(source: ContactSource | undefined, alias: string): ContactView {
    const u = this.requireUnlocked();
    if (!source) throw new InvalidArgumentError("a link code or a card is required");
    const card = "linkCode" in source ? decodeLinkCode(source.linkCode) : validateCard(source.card);
    return u.presence.contactView(u.contacts.add(card, alias.trim()));
  }

  listContacts(): ContactView[] {
    const u = this.requireUnlocked();
    return u.contacts.list().map((c) => u.presence.contactView(c));
  }

  getContact(query: string): ContactView {
    const u = this.requireUnlocked();
    return u.presence.contactView(u.contacts.resolve(required(query, "contact")));
  }

  updateContact(query: string, changes: { alias?: string; verified?: boolean; sendReceipts?: boolean }): ContactView {
    const u = this.requireUnlocked();
    return u.presence.contactView(u.contacts.update(required(query, "contact"), changes));
  }

  removeContact(query: string): void {
    this.requireUnlocked().contacts.remove(required(query, "contact"));
  }

  safetyNumber(query: string): { digits: string; formatted: string } {
    return this.requireUnlocked().contacts.safetyNumber(required(query, "contact"));
  }

  /**
   * With an idempotency key, a repeat returns the message the key first made (idempotent-send.ts).
   * `busy: false` for a stream's sends, which wait for room before they get here (sendMessages).
   */
  sendMessage(conversation: string, text: string, idempotencyKey = "", options: { busy: boolean } = { busy: true }): Promise<Message> {
    const u = this.requireUnlocked();
    const target = this.#conversation(u, conversation);
    if (idempotencyKey) {
      const store = () => (target.kind === "group" ? u.groups.storeMessage(target.id, text) : u.conversations.storeDirect(target.contact, text, options));
      return sendOnce(u, target.id, idempotencyKey, text, store);
    }
    if (target.kind === "group") return u.groups.send(target.id, text);
    // Refused before the group commit, not inside it: a refusal there rolls back its savepoint,
    // and a rollback makes the outbox count its backlog again (the next send reads it from the
    // store). Above capacity that was a count over hundreds of rows per refused call. The check
    // inside the commit still decides; this one only turns away what it would refuse anyway.
    try {
      u.outgoing.checkCapacity([target.contact.uid], options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return u.conversations.sendDirect(target.contact, text, options);
  }

  /**
   * SendMessage for a stream of requests: pipelined, answered in order, backpressured
   * (send-stream.ts). Where a unary send would be refused as `busy`, a stream's request waits
   * for room instead; the waits run one at a time in request order, so the sends start — and
   * are stored — in request order, and the stream's window then holds the client back.
   */
  sendMessages(requests: AsyncIterable<StreamedSend>): AsyncGenerator<StreamedSendOutcome> {
    // Waits for room still running: while one is, later sends queue behind it (request order).
    let waiting = 0;
    let previous: Promise<unknown> = Promise.resolve();
    return pipelineSends(
      requests,
      (conversation, text, key) => {
        // The common case (no one waiting, room now) starts at once: no promise chain per message.
        if (waiting === 0 && this.#hasRoom(conversation)) return this.sendMessage(conversation, text, key, { busy: false });
        waiting++;
        const room = previous.then(() => this.#roomToSend(conversation));
        previous = room.catch(() => undefined);
        return room.then(
          () => {
            waiting--;
            return this.sendMessage(conversation, text, key, { busy: false });
          },
          (error: unknown) => {
            waiting--;
            throw error;
          },
        );
      },
      SEND_STREAM_WINDOW,
    );
  }

  /** Resolves once a send to this conversation would not be `busy`; fails if the node locks meanwhile. */
  async #roomToSend(conversation: string): Promise<void> {
    while (!this.#hasRoom(conversation)) await this.requireUnlocked().outgoing.pauseWhileBusy();
  }

  /** Whether a send to this conversation would be accepted now rather than refused as `busy`. */
  #hasRoom(conversation: string): boolean {
    const u = this.requireUnlocked();
    const target = this.#conversation(u, conversation);
    return target.kind !== "contact" || !u.outgoing.isBusy(target.contact.uid);
  }

  listMessages(conversation: string, query: PageQuery): { messages: Message[]; hasMore: boolean } {
    const u = this.requireUnlocked();
    if (query.limit > MAX_PAGE) throw new InvalidArgumentError(`limit must be at most ${MAX_PAGE}`);
    if (query.before > 0 && query.after > 0 && query.before <= query.after) throw new InvalidArgumentError("before must be greater than after");
    return u.store.messages.page(this.#conversationId(u, conversation), { ...query, limit: query.limit || DEFAULT_PAGE });
  }

  markRead(conversation: string): Promise<number> {
    const u = this.requireUnlocked();
    return u.conversations.markRead(this.#conversationId(u, conversation));
  }

  unreadCounts(): { counts: UnreadCount[]; total: number } {
    return this.requireUnlocked().store.messages.unreadCounts();
  }

  createGroup(name: string, members: string[]): GroupView {
    const u = this.requireUnlocked();
    return u.presence.groupView(u.groups.create(required(name, "name"), members));
  }

  listGroups(): GroupView[] {
    const u = this.requireUnlocked();
    return u.groups.list().map((g) => u.presence.groupView(g));
  }

  getGroup(query: string): GroupView {
    const u = this.requireUnlocked();
    return u.presence.groupView(u.groups.resolve(required(query, "group")));
  }

  addGroupMembers(query: string, members: string[]): GroupView {
    const u = this.requireUnlocked();
    if (members.length === 0) throw new InvalidArgumentError("members are required");
    return u.presence.groupView(u.groups.addMembers(required(query, "group"), members));
  }

  /** Admins only: makes a member an admin too. */
  grantGroupAdmin(query: string, member: string): GroupView {
    const u = this.requireUnlocked();
    return u.presence.groupView(u.groups.grantAdmin(required(query, "group"), required(member, "member")));
  }

  /** Admins only: removes a member (never the creator; oneself leaves instead). */
  removeGroupMember(query: string, member: string): GroupView {
    const u = this.requireUnlocked();
    return u.presence.groupView(u.groups.removeMember(required(query, "group"), required(member, "member")));
  }

  leaveGroup(query: string): void {
    this.requireUnlocked().groups.leave(required(query, "group"));
  }

  deleteGroup(query: string): void {
    this.requireUnlocked().groups.delete(required(query, "group"));
  }

  async listPeers(): Promise<PeerView[]> {
    const u = this.requireUnlocked();
    const peers = this.#network.available ? await this.#network.listPeers().catch(() => []) : [];
    const byUid = new Map(peers.map((p) => [uidFromPublicKey(p.publicKey), p]));
    return u.contacts.list().map((c) => {
      const peer = byUid.get(c.uid);
      return { uid: c.uid, name: c.alias || c.name, presence: u.presence.presenceOf(c.uid), address: peer?.address ?? "", health: peer?.health };
    });
  }

  async connectPeer(query: string, address: string): Promise<void> {
    const contact = this.requireUnlocked().contacts.resolve(required(query, "contact"));
    const extra = address.trim();
    if (extra) parseHostPort(extra);
    const addresses = extra ? [extra, ...contact.addresses] : contact.addresses;
    if (addresses.length === 0) throw new InvalidArgumentError("no address known for this contact; pass one", "no-address");
    await this.#network.dial(contact.publicKey, addresses);
  }

  /** Replays every event after the cursor (or none, live only), then streams new ones. */
  subscribe(afterCursor: number, liveOnly: boolean, signal: AbortSignal): AsyncGenerator<StoredEvent> {
    const { events } = this.requireUnlocked().store;
    return events.subscribe(liveOnly ? events.latestCursor() : afterCursor, signal);
  }

  #conversationId(u: UnlockedSession, conversation: string): string {
    return this.#conversation(u, conversation).id;
  }

  #conversation(u: UnlockedSession, conversation: string): Conversation {
    return u.conversationRefs.resolve(conversation);
  }
}

function required(value: string, field: string): string {
  if (value.trim().length === 0) throw new InvalidArgumentError(`${field} is required`);
  return value;
}
