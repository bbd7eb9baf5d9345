import { InvalidArgumentError, isMessageId, newMessageId, type Clock } from "@jarvis/core";
import type { ChatMessage, Receipt } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { ContactRepo } from "../contacts/contact-repo.js";
import type { Contact, DropCounters, Message } from "../model.js";
import type { MessageRepo } from "./message-repo.js";
import type { Outgoing } from "./outgoing.js";
import type { Acks } from "./acks.js";
import { chatEnvelope, receiptEnvelope } from "./envelopes.js";
import { BatchAbortError } from "../network/batch-abort.js";
import { MARK_READ_CHUNK, MAX_CLOCK_SKEW_MS, MAX_IDS_PER_RECEIPT, MAX_TEXT_BYTES } from "../constants.js";

/** A macrotask boundary: lets I/O and other clients run between chunks of a long job. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

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

/**
 * The rest of storing one incoming message inside an inbound batch's transaction, after its
 * insert (the event append): without a savepoint of its own — SAVEPOINT and RELEASE around
 * every message were a fifth of the cost of storing it — a failure here would leave the
 * message stored without its event, so it becomes a BatchAbortError and the whole batch rolls
 * back unacked; peers resend it. Nothing in it depends on what the peer sent.
 */
function completeOrAbortBatch(complete: () => void): void {
  try {
    complete();
  } catch (error) {
    throw new BatchAbortError(error);
  }
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

  /** `busy: false` for a stream's sends (see Outgoing.checkCapacity). */
  async sendDirect(contact: Contact, text: string, options: { busy: boolean } = { busy: true }): Promise<Message> {
    validateText(text);
    return this.#deps.uow.write(() => this.storeDirect(contact, text, options));
  }

  /** sendDirect inside the caller's transaction (an idempotent send records its key in the same one). */
  storeDirect(contact: Contact, text: string, options: { busy: boolean } = { busy: true }): Message {
    validateText(text);
    const { contacts, outgoing } = this.#deps;
    const id = newMessageId();
    outgoing.checkCapacity([contact.uid], options);
    const message = outgoing.storeMessage(id, contact.uid, contacts.takeSequence(contact.uid), text, "queued");
    outgoing.enqueue([contact.uid], { ackId: id, messageId: id, payload: chatEnvelope(message), needsAck: true });
    return message;
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
    const insert = () =>
      messages.insert({
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
    const announce = (message: Message) => {
      uow.emit({ type: "message_received", message });
      this.unreadCountsChanged();
    };
    if (uow.inTransaction) {
      // The insert is one statement: if it fails, SQLite undoes it alone and only this frame
      // fails (logged, not acked), so no peer can make the rest of the batch roll back.
      const message = uow.statement(insert);
      if (message) completeOrAbortBatch(() => announce(message));
    } else {
      uow.tx(() => {
        const message = insert();
        if (message) announce(message);
      });
    }
    this.#deps.acks.queue(contact, id);
  }

  /**
   * Marks a conversation read and queues read receipts to the senders; returns how many.
   * Covers what was unread when called, in chunks of MARK_READ_CHUNK, one transaction each,
   * yielding to the event loop between them: 100k unread messages never block it for long,
   * and the work is linear in the messages marked. A crash between chunks leaves the rest
   * unread, which the next call marks (receipts are only queued with the chunk they cover).
   */
  async markRead(conversationId: string): Promise<number> {
    const upTo = this.#deps.messages.newestUnreadPosition(conversationId);
    let after = 0;
    let marked = 0;
    while (upTo > 0) {
      const chunk = this.#markReadChunk(conversationId, after, upTo);
      marked += chunk.marked;
      if (chunk.lastPosition === undefined) break;
      after = chunk.lastPosition;
      await yieldToEventLoop();
    }
    return marked;
  }

  #markReadChunk(conversationId: string, after: number, upTo: number): { marked: number; lastPosition: number | undefined } {
    const { uow, messages, contacts, outgoing } = this.#deps;
    return uow.tx(() => {
      const unread = messages.unread(conversationId, after, upTo, MARK_READ_CHUNK);
      const last = unread.at(-1);
      if (!last) return { marked: 0, lastPosition: undefined };
      const marked = messages.markRead(conversationId, after, last.position);
      const bySender = new Map<string, string[]>();
      for (const { id, senderUid } of unread) {
        const ids = bySender.get(senderUid);
        if (ids) ids.push(id);
        else bySender.set(senderUid, [id]);
      }
      for (const [senderUid, ids] of bySender) {
        // Receipts are a courtesy the user can withhold per contact.
        if (!contacts.get(senderUid)?.sendReceipts) continue;
        // Chunked so that every receipt stays far below the peer payload cap. Kept until the
        // peer acks it: written is not enough, since a peer whose session is restarting loses
        // what its network was handed, and a conversation already read is never marked again.
        for (let i = 0; i < ids.length; i += MAX_IDS_PER_RECEIPT) {
          const receiptId = newMessageId();
          const payload = receiptEnvelope(ids.slice(i, i + MAX_IDS_PER_RECEIPT), receiptId);
          outgoing.enqueue([senderUid], { ackId: receiptId, messageId: "", payload, needsAck: true });
        }
      }
      this.unreadCountsChanged();
      return { marked, lastPosition: unread.length < MARK_READ_CHUNK ? undefined : last.position };
    });
  }

  /**
   * Applies a read receipt to our own messages only (a receipt names ids we sent, never another
   * sender's): those in our direct conversation with the reader, in one statement, and those in
   * a group the reader belongs to. Anything else it names is ignored.
   */
  receiveReceipt(contact: Contact, body: Receipt, isMember: (groupId: string, uid: string) => boolean): void {
    const { uow, outgoing, acks } = this.#deps;
    const ids = body.messageIds.slice(0, MAX_IDS_PER_RECEIPT).filter(isMessageId);
    uow.tx(() => {
      // Acked once applied (after the commit), so the reader stops resending it; a repeat is
      // harmless — read stays read — and is acked again.
      if (isMessageId(body.receiptId)) acks.queue(contact, body.receiptId);
      if (ids.length === 0) return;
      const rest = outgoing.advanceInConversation(ids, "read", contact.uid);
      for (const { id, conversationId } of outgoing.behindElsewhere(rest, "read", contact.uid)) {
        if (isMember(conversationId, contact.uid)) outgoing.advance(id, "read");
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
