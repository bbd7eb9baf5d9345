import {
  InvalidArgumentError,
  ResourceExhaustedError,
  backoffCeiling,
  isMessageId,
  newMessageId,
  type TimerHandle,
} from "@jarvis/core";
import type { ChatMessage, Ack, Receipt } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { Account } from "../account.js";
import type { Contact, Message, MessageState } from "../model.js";
import { ackEnvelope, chatEnvelope, helloEnvelope, receiptEnvelope } from "./envelopes.js";

/** Delivery limits (design §5, anchor §4.14). */
export const OUTBOX_LIMITS = {
  perRecipient: 1000,
  expiryMs: 7 * 24 * 60 * 60 * 1000,
  retry: { baseMs: 10_000, factor: 2, capMs: 5 * 60_000 },
  expirySweepMs: 60 * 60 * 1000,
};
export const MAX_TEXT_BYTES = 64 * 1024;
const FLUSH_BATCH = 256;

interface Delivery {
  /** Highest outbox seq handed to the current channel; reset to resend. */
  lastSentSeq: number;
  retryAttempt: number;
  retryTimer: TimerHandle | undefined;
}

export function validateText(text: string): void {
  if (text.trim().length === 0) throw new InvalidArgumentError("message text must not be empty", "empty-text");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_TEXT_BYTES) throw new InvalidArgumentError(`message text is too long (${bytes} bytes, at most ${MAX_TEXT_BYTES})`, "text-too-long");
}

/**
 * Direct messages and the machinery every message shares: the durable per-recipient FIFO
 * outbox, flushing on connect before anything new, retry with backoff, expiry, acks, read
 * receipts. A message leaves the outbox only when the peer acks it (stored), so a crash or a
 * dropped channel at any point means a resend — and the receiver's dedup makes that harmless.
 */
export class Messaging {
  #account: Account;
  #delivery = new Map<string, Delivery>();
  #sweepTimer: TimerHandle | undefined;
  #pendingAcks = new Map<string, { publicKey: Buffer; ids: string[] }>();
  #ackFlushScheduled = false;
  #flushQueued = new Set<string>();

  constructor(account: Account) {
    this.#account = account;
  }

  start(): void {
    this.#sweepExpired();
  }

  stop(): void {
    this.#sweepTimer?.cancel();
    this.#flushQueued.clear();
    this.#pendingAcks.clear();
    for (const delivery of this.#delivery.values()) delivery.retryTimer?.cancel();
    this.#delivery.clear();
  }

  async sendDirect(contact: Contact, text: string): Promise<Message> {
    validateText(text);
    const account = this.#account;
    const id = newMessageId();
    const message = await account.write(() => {
      this.#checkCapacity(contact.uid);
      const message = this.storeOutgoing(id, contact.uid, account.contacts.takeSequence(contact.uid), text, "queued");
      this.enqueue([contact.uid], { ackId: id, messageId: id, payload: chatEnvelope(message), needsAck: true });
      return message;
    });
    this.scheduleFlush(contact.uid);
    return message;
  }

  /**
   * Flushes on the next turn of the event loop, so a burst of sends shares one flush (and one
   * commit for their state changes).
   */
  scheduleFlush(uid: string): void {
    if (this.#flushQueued.size === 0) {
      setImmediate(() => {
        const uids = [...this.#flushQueued];
        this.#flushQueued.clear();
        for (const queued of uids) this.flush(queued);
      });
    }
    this.#flushQueued.add(uid);
  }

  /** Stores one of our own messages and announces it (inside the caller's transaction). */
  storeOutgoing(id: string, conversationId: string, sequence: number, text: string, state: MessageState): Message {
    const account = this.#account;
    const now = account.now;
    const message = account.messages.insert({
      id,
      conversationId,
      senderUid: account.identity.uid,
      outgoing: true,
      text,
      state,
      sequence,
      sentAt: now,
      receivedAt: now,
      read: true,
    }) as Message;
    account.emit({ type: "message_created", message });
    return message;
  }

  /** Adds one outbox entry per recipient inside the caller's transaction. */
  enqueue(recipientUids: string[], entry: { ackId: string; messageId: string; payload: Buffer; needsAck: boolean }): void {
    const account = this.#account;
    for (const recipientUid of recipientUids) account.outbox.add({ ...entry, recipientUid, createdAt: account.now });
  }

  checkCapacity(recipientUids: string[]): void {
    for (const uid of recipientUids) this.#checkCapacity(uid);
  }

  /** Marks a conversation read, queues read receipts to the senders, returns how many. */
  markRead(conversationId: string): number {
    const account = this.#account;
    const unread = account.messages.unread(conversationId);
    if (unread.length === 0) return 0;
    const bySender = new Map<string, string[]>();
    for (const { id, senderUid } of unread) bySender.set(senderUid, [...(bySender.get(senderUid) ?? []), id]);
    const marked = account.tx(() => {
      const n = account.messages.markRead(conversationId);
      for (const [senderUid, ids] of bySender) {
        // Receipts are a courtesy the user can withhold per contact.
        if (!account.contacts.get(senderUid)?.sendReceipts) continue;
        this.enqueue([senderUid], { ackId: `receipt:${newMessageId()}`, messageId: "", payload: receiptEnvelope(ids), needsAck: false });
      }
      account.emitUnreadCounts();
      return n;
    });
    for (const senderUid of bySender.keys()) this.scheduleFlush(senderUid);
    return marked;
  }

  peerConnected(contact: Contact): void {
    const account = this.#account;
    const previous = this.#delivery.get(contact.uid);
    previous?.retryTimer?.cancel();
    this.#delivery.set(contact.uid, { lastSentSeq: 0, retryAttempt: 0, retryTimer: undefined });
    // Hello first, then the backlog in order, then whatever is sent next.
    account.sendRaw(contact.publicKey, helloEnvelope(account.identity.name, account.ownCard().addresses[0] ?? ""));
    this.flush(contact.uid);
  }

  peerDisconnected(uid: string): void {
    this.#delivery.get(uid)?.retryTimer?.cancel();
    this.#delivery.delete(uid);
  }

  /** Hands every outbox entry not yet sent on the current channel to the network, in order. */
  flush(uid: string): void {
    const account = this.#account;
    const delivery = this.#delivery.get(uid);
    const contact = account.contacts.get(uid);
    if (!delivery || !contact) return;
    for (;;) {
      const entries = account.outbox.pending(uid, delivery.lastSentSeq, FLUSH_BATCH);
      if (entries.length === 0) break;
      const sent: typeof entries = [];
      for (const entry of entries) {
        if (!account.sendRaw(contact.publicKey, entry.payload)) break;
        delivery.lastSentSeq = entry.seq;
        sent.push(entry);
      }
      account.tx(() => {
        for (const entry of sent) {
          if (!entry.needsAck) account.outbox.remove(entry.seq);
          else if (entry.messageId) this.#advance(entry.messageId, "sent");
        }
      });
      if (sent.length < entries.length || entries.length < FLUSH_BATCH) break;
    }
    this.#scheduleRetry(uid, delivery);
  }

  receiveChat(contact: Contact, body: ChatMessage): void {
    const account = this.#account;
    if (!isMessageId(body.messageId) || Buffer.byteLength(body.text, "utf8") > MAX_TEXT_BYTES || body.text.length === 0) {
      account.drops.malformed++;
      return;
    }
    this.storeIncoming(contact, contact.uid, body.messageId, body.sequence, body.sentAtMs, body.text);
  }

  /** Stores first, then acks; a duplicate id is acked again but not stored or shown twice. */
  storeIncoming(contact: Contact, conversationId: string, id: string, sequence: bigint, sentAtMs: bigint, text: string): void {
    const account = this.#account;
    account.tx(() => {
      const message = account.messages.insert({
        id,
        conversationId,
        senderUid: contact.uid,
        outgoing: false,
        text,
        state: "received",
        sequence: Number(sequence),
        sentAt: Number(sentAtMs),
        receivedAt: account.now,
        read: false,
      });
      if (!message) return;
      account.emit({ type: "message_received", message });
      account.markUnreadDirty();
    });
    this.queueAck(contact, id);
  }

  /**
   * Acks are coalesced: everything stored in one batch is acknowledged in one envelope per
   * peer, sent only after the batch has committed (store first, then ack).
   */
  queueAck(contact: Contact, id: string): void {
    const pending = this.#pendingAcks.get(contact.uid);
    if (pending) pending.ids.push(id);
    else this.#pendingAcks.set(contact.uid, { publicKey: contact.publicKey, ids: [id] });
    if (!this.#ackFlushScheduled) {
      this.#ackFlushScheduled = true;
      setImmediate(() => this.sendPendingAcks());
    }
  }

  sendPendingAcks(): void {
    this.#ackFlushScheduled = false;
    const pending = [...this.#pendingAcks.values()];
    this.#pendingAcks.clear();
    for (const { publicKey, ids } of pending) {
      for (let i = 0; i < ids.length; i += 1000) this.#account.sendRaw(publicKey, ackEnvelope(ids.slice(i, i + 1000)));
    }
  }

  receiveAck(contact: Contact, body: Ack): void {
    const account = this.#account;
    let progressed = false;
    account.tx(() => {
      for (const ackId of body.messageIds.slice(0, 1000)) {
        const messageId = account.outbox.acknowledge(contact.uid, ackId);
        if (messageId === undefined) continue;
        progressed = true;
        if (messageId && account.outbox.remaining(messageId) === 0) this.#advance(messageId, "delivered");
      }
    });
    const delivery = this.#delivery.get(contact.uid);
    if (progressed && delivery) delivery.retryAttempt = 0;
  }

  receiveReceipt(contact: Contact, body: Receipt, isMember: (groupId: string, uid: string) => boolean): void {
    const account = this.#account;
    account.tx(() => {
      for (const id of body.messageIds.slice(0, 1000)) {
        const message = account.messages.get(id);
        if (!message || !message.outgoing) continue;
        const allowed = message.conversationId === contact.uid || isMember(message.conversationId, contact.uid);
        if (allowed) this.#advance(id, "read");
      }
    });
  }

  /** Moves an outgoing message forward (queued → sent → delivered → read), never back. */
  #advance(messageId: string, state: MessageState): void {
    const order: MessageState[] = ["queued", "sent", "delivered", "read"];
    const account = this.#account;
    const message = account.messages.get(messageId);
    if (!message || !message.outgoing) return;
    if (message.state === "failed" || order.indexOf(message.state) >= order.indexOf(state)) return;
    account.messages.setState(messageId, state);
    account.emit({ type: "message_state_changed", messageId, conversationId: message.conversationId, state });
  }

  #checkCapacity(uid: string): void {
    if (this.#account.outbox.pendingCount(uid) >= OUTBOX_LIMITS.perRecipient) {
      throw new ResourceExhaustedError(
        `outbox for this contact is full (${OUTBOX_LIMITS.perRecipient} undelivered messages); wait until they come online`,
        "outbox-full",
      );
    }
  }

  /** Unacked entries are resent after a growing delay while the channel stays up. */
  #scheduleRetry(uid: string, delivery: Delivery): void {
    if (delivery.retryTimer || delivery.lastSentSeq === 0) return;
    const delay = backoffCeiling(OUTBOX_LIMITS.retry, delivery.retryAttempt);
    delivery.retryTimer = this.#account.deps.clock.setTimeout(() => {
      delivery.retryTimer = undefined;
      if (this.#delivery.get(uid) !== delivery) return;
      const oldest = this.#account.outbox.pending(uid, 0, 1)[0];
      if (!oldest || oldest.seq > delivery.lastSentSeq) return;
      delivery.retryAttempt++;
      delivery.lastSentSeq = 0;
      this.flush(uid);
    }, delay);
  }

  #sweepExpired(): void {
    const account = this.#account;
    const expired = account.outbox.expired(account.now - OUTBOX_LIMITS.expiryMs);
    if (expired.length > 0) {
      account.tx(() => {
        for (const entry of expired) {
          account.outbox.remove(entry.seq);
          if (entry.messageId && account.outbox.remaining(entry.messageId) === 0) {
            const message = account.messages.get(entry.messageId);
            if (message && message.outgoing && (message.state === "queued" || message.state === "sent")) {
              account.messages.setState(entry.messageId, "failed");
              account.emit({ type: "message_state_changed", messageId: entry.messageId, conversationId: message.conversationId, state: "failed" });
            }
          }
        }
      });
    }
    this.#sweepTimer = account.deps.clock.setTimeout(() => this.#sweepExpired(), OUTBOX_LIMITS.expirySweepMs);
  }
}
