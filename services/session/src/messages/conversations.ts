import { InvalidArgumentError, isMessageId, newMessageId, type Clock } from "@jarvis/core";
import type { ChatMessage, Receipt } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { ContactRepo } from "../contacts/contact-repo.js";
import type { Contact, DropCounters, Message } from "../model.js";
import type { MessageRepo } from "./message-repo.js";
import type { Outgoing } from "./outgoing.js";
import type { Acks } from "./acks.js";
import { chatEnvelope, receiptEnvelope } from "./envelopes.js";
import { MAX_CLOCK_SKEW_MS, MAX_IDS_PER_RECEIPT, MAX_TEXT_BYTES } from "../constants.js";

export function validateText(text: string): void {
  if (text.trim().length === 0) throw new InvalidArgumentError("message text must not be empty", "empty-text");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_TEXT_BYTES) throw new InvalidArgumentError(`message text is too long (${bytes} bytes, at most ${MAX_TEXT_BYTES})`, "text-too-long");
}

/** Sequence numbers beyond this cannot be stored exactly and are refused. */
const MAX_SEQUENCE = BigInt(Number.MAX_SAFE_INTEGER);

function isWellFormed(id: string, sequence: bigint, text: string): boolean {
  return isMessageId(id) && sequence >= 1n && sequence <= MAX_SEQUENCE && text.length > 0 && Buffer.byteLength(text, "utf8") <= MAX_TEXT_BYTES;
}

/**
 * A peer's send time is its claim: kept when it lies in [1, receivedAt + MAX_CLOCK_SKEW_MS],
 * otherwise replaced by the time we received it, so no peer can break history with a time
 * that no Date can hold (2^63−1) or push its message to the end of every list.
 */
export function saneSentAt(sentAtMs: bigint, receivedAt: number): number {
  if (sentAtMs < 1n || sentAtMs > BigInt(receivedAt + MAX_CLOCK_SKEW_MS)) return receivedAt;
  return Number(sentAtMs);
}

export interface ConversationsDeps {
  clock: Clock;
  uow: UnitOfWork;
  messages: MessageRepo;
  contacts: ContactRepo;
  outgoing: Outgoing;
  acks: Acks;
  drops: DropCounters;
}

/**
 * Messages in conversations: sending direct messages, storing incoming ones (direct and
 * group), reading, and read receipts both ways.
 */
export class Conversations {
  #deps: ConversationsDeps;

  constructor(deps: ConversationsDeps) {
    this.#deps = deps;
  }

  async sendDirect(contact: Contact, text: string): Promise<Message> {
    validateText(text);
    const { uow, contacts, outgoing } = this.#deps;
    const id = newMessageId();
    return uow.write(() => {
      outgoing.checkCapacity([contact.uid]);
      const message = outgoing.storeMessage(id, contact.uid, contacts.takeSequence(contact.uid), text, "queued");
      outgoing.enqueue([contact.uid], { ackId: id, messageId: id, payload: chatEnvelope(message), needsAck: true });
      return message;
    });
  }

  receiveChat(contact: Contact, body: ChatMessage): void {
    // A direct message needs a contact the person added; a group contact speaks only in its groups.
    if (contact.groupOnly) {
      this.refuse(contact, body.messageId, "notAContact");
      return;
    }
    this.storeIncoming(contact, contact.uid, body.messageId, body.sequence, body.sentAtMs, body.text);
  }

  /**
   * A message we will never store: counted, and acked all the same when it has an id, so the
   * sender does not retry something that would be refused again (docs/protocol.md, receiver rules).
   */
  refuse(contact: Contact, id: string, reason: keyof DropCounters): void {
    this.#deps.drops[reason]++;
    if (isMessageId(id)) this.#deps.acks.queue(contact, id);
  }

  /**
   * Stores first, then acks; a duplicate (same sender, same id) is acked again but not stored
   * or shown twice. Another sender's message with the same id is a different message.
   */
  storeIncoming(contact: Contact, conversationId: string, id: string, sequence: bigint, sentAtMs: bigint, text: string): void {
    const { uow, messages, clock } = this.#deps;
    if (!isWellFormed(id, sequence, text)) {
      this.refuse(contact, id, "malformed");
      return;
    }
    const receivedAt = clock.now();
    const sentAt = saneSentAt(sentAtMs, receivedAt);
    if (sentAt !== Number(sentAtMs)) this.#deps.drops.clampedTimestamps++;
    uow.tx(() => {
      const message = messages.insert({
        id,
        conversationId,
        senderUid: contact.uid,
        outgoing: false,
        text,
        state: "received",
        sequence: Number(sequence),
        sentAt,
        receivedAt,
        read: false,
      });
      if (!message) return;
      uow.emit({ type: "message_received", message });
      this.unreadCountsChanged();
    });
    this.#deps.acks.queue(contact, id);
  }

  /** Marks a conversation read and queues read receipts to the senders; returns how many. */
  markRead(conversationId: string): number {
    const { uow, messages, contacts, outgoing } = this.#deps;
    const unread = messages.unread(conversationId);
    if (unread.length === 0) return 0;
    const bySender = new Map<string, string[]>();
    for (const { id, senderUid } of unread) bySender.set(senderUid, [...(bySender.get(senderUid) ?? []), id]);
    return uow.tx(() => {
      const marked = messages.markRead(conversationId);
      for (const [senderUid, ids] of bySender) {
        // Receipts are a courtesy the user can withhold per contact.
        if (!contacts.get(senderUid)?.sendReceipts) continue;
        for (let i = 0; i < ids.length; i += MAX_IDS_PER_RECEIPT) {
          const payload = receiptEnvelope(ids.slice(i, i + MAX_IDS_PER_RECEIPT));
          outgoing.enqueue([senderUid], { ackId: `receipt:${newMessageId()}`, messageId: "", payload, needsAck: false });
        }
      }
      this.unreadCountsChanged();
      return marked;
    });
  }

  receiveReceipt(contact: Contact, body: Receipt, isMember: (groupId: string, uid: string) => boolean): void {
    const { uow, outgoing } = this.#deps;
    uow.tx(() => {
      for (const id of body.messageIds.slice(0, MAX_IDS_PER_RECEIPT)) {
        // Only our own messages: a receipt names ids we sent, never another sender's.
        const message = outgoing.ownMessage(id);
        if (!message) continue;
        const allowed = message.conversationId === contact.uid || isMember(message.conversationId, contact.uid);
        if (allowed) outgoing.advance(id, "read");
      }
    });
  }

  /** Announces unread counts once, at the end of the current transaction (inside one). */
  unreadCountsChanged(): void {
    const { uow, messages } = this.#deps;
    uow.onceBeforeCommit("unread-counts", () => {
      const { counts, total } = messages.unreadCounts();
      uow.emit({ type: "unread_counts_changed", counts, total });
    });
  }
}
