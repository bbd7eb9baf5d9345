import { ResourceExhaustedError, type Clock } from "@jarvis/core";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { MessageRepo } from "./message-repo.js";
import type { OutboxEntry, OutboxRepo } from "./outbox-repo.js";
import type { Message, MessageState } from "../model.js";
import { OUTBOX_LIMITS } from "../constants.js";

/** One outbox entry as it is handed to a peer's channel (what delivery needs of the stored row). */
export type OutboxItem = Omit<OutboxEntry, "createdAt" | "attempts">;

export interface OutgoingDeps {
  clock: Clock;
  uow: UnitOfWork;
  messages: MessageRepo;
  outbox: OutboxRepo;
  ownUid: string;
  /** Receives each new entry right after its transaction commits, in outbox order. */
  handOff: (item: OutboxItem) => void;
  /** Whether a recipient's channel is up and acking now (its backlog is then a throughput question, not a stalled or offline peer). */
  connected?: (uid: string) => boolean;
}

/**
 * The one write path for what we send: our own messages (direct and group), group updates
 * and receipts all become outbox entries here, inside the caller's transaction, and go to the
 * network straight from memory after the commit — the outbox is read back only to resend.
 * Message states move forward here too.
 */
export class Outgoing {
  #deps: OutgoingDeps;
  /** Pauses of senders waiting for room (pauseWhileBusy), woken early by an ack. */
  #roomWaiters = new Set<() => void>();

  constructor(deps: OutgoingDeps) {
    this.#deps = deps;
  }

  /**
   * Refuses a send that cannot be delivered soon, at once, instead of letting latency grow.
   * An offline or stalled contact may owe up to OUTBOX_LIMITS.perRecipient (`outbox-full`); a
   * connected one that acked lately but already owes OUTBOX_LIMITS.busyBacklog means we send
   * faster than the path delivers: `busy`, with a retry hint (ErrorInfo metadata retry_after_ms). Accepted messages
   * thus wait behind at most busyBacklog others. A SendMessages stream skips `busy`: it waits
   * for room instead (isBusy, one request at a time, in order), so its flow control holds the
   * client back.
   */
  /** True while a send to this contact would be refused as `busy` (see checkCapacity). */
  isBusy(uid: string): boolean {
    return this.#deps.outbox.pendingCount(uid) >= OUTBOX_LIMITS.busyBacklog && (this.#deps.connected?.(uid) ?? false);
  }

  /**
   * One pause between looks at isBusy: until an ack frees room (roomMayHaveOpened), or at
   * most busyRetryMs on the injectable clock (lock, a channel that went down). Waking on the
   * ack matters: a stream above capacity waits here for every window of messages, and a
   * 50 ms poll alone capped a fast stream at about 4,400 msgs/s.
   */
  pauseWhileBusy(): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        timer.cancel();
        this.#roomWaiters.delete(wake);
        resolve();
      };
      const timer = this.#deps.clock.setTimeout(wake, OUTBOX_LIMITS.busyRetryMs);
      this.#roomWaiters.add(wake);
    });
  }

  /** A peer acked something: whoever pauses for room looks again now. */
  roomMayHaveOpened(): void {
    for (const wake of [...this.#roomWaiters]) wake();
  }

  checkCapacity(recipientUids: string[], options: { busy: boolean } = { busy: true }): void {
    for (const uid of recipientUids) {
      const owed = this.#deps.outbox.pendingCount(uid);
      if (owed >= OUTBOX_LIMITS.perRecipient) {
        throw new ResourceExhaustedError(
          `outbox for this contact is full (${OUTBOX_LIMITS.perRecipient} undelivered messages); wait until they come online`,
          "outbox-full",
        );
      }
      if (options.busy && owed >= OUTBOX_LIMITS.busyBacklog && this.#deps.connected?.(uid)) {
        throw new ResourceExhaustedError(
          `busy: ${owed} messages to this contact are not yet delivered; retry in ${OUTBOX_LIMITS.busyRetryMs} ms`,
          "busy",
          { retryAfterMs: OUTBOX_LIMITS.busyRetryMs },
        );
      }
    }
  }

  /**
   * The recipients whose outbox has room. A group message goes to these: one member that never
   * acks fills only its own outbox and misses the copies that do not fit, rather than
   * blocking the group for everyone else.
   */
  withCapacity(recipientUids: string[]): string[] {
    return recipientUids.filter((uid) => this.#deps.outbox.pendingCount(uid) < OUTBOX_LIMITS.perRecipient);
  }

  /** Stores one of our own messages and announces it (inside the caller's transaction). */
  storeMessage(id: string, conversationId: string, sequence: number, text: string, state: MessageState): Message {
    const { clock, messages, uow, ownUid } = this.#deps;
    const now = clock.now();
    const message = messages.insert({
      id,
      conversationId,
      senderUid: ownUid,
      outgoing: true,
      text,
      state,
      sequence,
      sentAt: now,
      receivedAt: now,
      read: true,
    }) as Message;
    uow.emit({ type: "message_created", message });
    return message;
  }

  /** Adds one outbox entry per recipient (inside the caller's transaction); sent after commit. */
  enqueue(recipientUids: string[], entry: Omit<OutboxItem, "seq" | "recipientUid">): void {
    const { clock, outbox, uow, handOff } = this.#deps;
    const { ackId, messageId, payload, needsAck } = entry;
    const createdAt = clock.now();
    // Plain literals, not spreads of `entry`: this runs for every message and recipient.
    for (const recipientUid of recipientUids) {
      const seq = outbox.add({ recipientUid, ackId, messageId, payload, needsAck, createdAt });
      const item: OutboxItem = { seq, recipientUid, ackId, messageId, payload, needsAck };
      uow.afterCommit(() => handOff(item));
    }
  }

  /** One of our own messages by id (ids are unique per sender; ours are the ones we made). */
  ownMessage(messageId: string): Message | undefined {
    const message = this.#deps.messages.get(this.#deps.ownUid, messageId);
    return message?.outgoing ? message : undefined;
  }

  /** Moves an outgoing message forward (queued → sent → delivered → read), never back. */
  advance(messageId: string, state: "sent" | "delivered" | "read"): void {
    const { messages, uow, ownUid } = this.#deps;
    const conversationId = messages.advance(ownUid, messageId, state);
    if (conversationId === undefined) return;
    uow.emit({ type: "message_state_changed", messageId, conversationId, state });
  }

  /** Those of `messageIds` whose frames the network wrote become "sent", in one statement. */
  markSent(messageIds: readonly string[]): void {
    this.#advanceAll(messageIds, "sent", false);
  }

  /**
   * Those of `messageIds` (just acked) that no recipient still owes become "delivered", in one
   * statement: a group message waits for every member's ack. The moves are announced in the
   * order of `order` (the Ack frame's ids, which may hold others too).
   */
  markDeliveredUnlessOwed(messageIds: readonly string[], order: readonly string[]): void {
    this.#advanceAll(messageIds, "delivered", true, order);
  }

  #advanceAll(messageIds: readonly string[], state: "sent" | "delivered", unlessOwed: boolean, order = messageIds): void {
    if (messageIds.length === 0) return;
    const { messages, uow, ownUid } = this.#deps;
    const moved = messages.advanceAll(ownUid, messageIds, state, { unlessOwed });
    if (moved.length === 0) return;
    const only = moved.length === 1 ? moved[0] : undefined;
    if (only) return uow.emit({ type: "message_state_changed", messageId: only.id, conversationId: only.conversationId, state });
    // Announced in the order sent or acked, not the statement's (which is id order).
    const conversationOf = new Map<string, string>();
    for (const row of moved) conversationOf.set(row.id, row.conversationId);
    for (const messageId of order) {
      const conversationId = conversationOf.get(messageId);
      if (conversationId === undefined) continue;
      conversationOf.delete(messageId); // a repeated id moved once: announced once
      uow.emit({ type: "message_state_changed", messageId, conversationId, state });
    }
  }

  /**
   * Moves forward, in one statement, those of `ids` we sent in `conversationId` (the usual
   * receipt: every id in it); returns the ids it did not move, for the caller to look at.
   */
  advanceInConversation(ids: string[], state: "delivered" | "read", conversationId: string): string[] {
    const { messages, uow, ownUid } = this.#deps;
    const advanced = messages.advanceInConversation(ownUid, ids, state, conversationId);
    for (const messageId of advanced) uow.emit({ type: "message_state_changed", messageId, conversationId, state });
    if (advanced.length === ids.length) return [];
    const moved = new Set(advanced);
    return ids.filter((id) => !moved.has(id));
  }

  /** Those of `ids` we sent outside `conversationId` that are still before `state`. */
  behindElsewhere(ids: string[], state: "delivered" | "read", conversationId: string): { id: string; conversationId: string }[] {
    return ids.length === 0 ? [] : this.#deps.messages.behindElsewhere(this.#deps.ownUid, ids, state, conversationId);
  }

  /** A message nobody will ever ack (expired, recipient removed) becomes failed. */
  failIfAbandoned(messageId: string): void {
    const { messages, outbox, uow, ownUid } = this.#deps;
    if (!messageId || outbox.remaining(messageId) > 0) return;
    const message = messages.get(ownUid, messageId);
    if (message && message.outgoing && (message.state === "queued" || message.state === "sent")) {
      messages.setState(ownUid, messageId, "failed");
      uow.emit({ type: "message_state_changed", messageId, conversationId: message.conversationId, state: "failed" });
    }
  }

  /** Removes every entry owed to a recipient (contact removed), failing what is left undelivered. */
  dropRecipient(recipientUid: string): void {
    for (const messageId of this.#deps.outbox.removeRecipient(recipientUid)) this.failIfAbandoned(messageId);
  }

  /** Removes entries older than the expiry, failing their messages. */
  expire(): void {
    const { clock, outbox, uow } = this.#deps;
    const expired = outbox.expired(clock.now() - OUTBOX_LIMITS.expiryMs);
    if (expired.length === 0) return;
    uow.tx(() => {
      for (const entry of expired) {
        outbox.remove(entry.seq);
        this.failIfAbandoned(entry.messageId);
      }
    });
  }
}
