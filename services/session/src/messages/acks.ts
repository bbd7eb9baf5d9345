import type { Clock, TimerHandle } from "@jarvis/core";
import type { Ack } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { PeerNetwork } from "../peer-network.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { Contact } from "../model.js";
import type { OutboxRepo } from "./outbox-repo.js";
import type { Outgoing } from "./outgoing.js";
import type { OutboxDelivery } from "./outbox-delivery.js";
import { ackEnvelope } from "./envelopes.js";
import { MAX_IDS_PER_ACK } from "../constants.js";

/**
 * How long our acks for one peer may gather before they are sent. At a steady rate of lone
 * messages (1,000/s) each ack frame otherwise cost a wake-up in four processes (our network,
 * theirs, their session) for one id; folded, one frame carries the ids of this many ms. The
 * sender sees "delivered" at most this much later, and its retries are seconds away.
 */
export const ACK_SEND_FOLD_MS = 5;

export interface AcksDeps {
  /** Times the fold: real time, as it only bounds how late the peer learns of delivery. */
  clock: Clock;
  network: PeerNetwork;
  uow: UnitOfWork;
  outbox: OutboxRepo;
  outgoing: Outgoing;
  delivery: OutboxDelivery;
}

/**
 * Acks in both directions. Ours are best-effort: coalesced per peer, sent after the batch that
 * stored the messages has committed (store first, then ack), never queued durably — an ack
 * that is lost is recovered by the sender's retry, which our dedup answers with a new ack.
 */
export class Acks {
  #deps: AcksDeps;
  #pending = new Map<string, { publicKey: Buffer; ids: string[] }>();
  #foldTimer: TimerHandle | undefined;
  #flushScheduled = false;

  constructor(deps: AcksDeps) {
    this.#deps = deps;
  }

  queue(contact: Contact, id: string): void {
    // Store first, then ack: inside a transaction the ack waits for its commit and is dropped
    // if it rolls back (a full disk), so nothing that was not stored is ever acked.
    const { uow } = this.#deps;
    if (uow.inTransaction) return uow.afterCommit(() => this.#enqueue(contact, id));
    this.#enqueue(contact, id);
  }

  #enqueue(contact: Contact, id: string): void {
    let pending = this.#pending.get(contact.uid);
    if (pending) pending.ids.push(id);
    else this.#pending.set(contact.uid, (pending = { publicKey: contact.publicKey, ids: [id] }));
    // A full frame's worth goes now (after the job that queued it: a commit's after-commit
    // callbacks run together); anything less waits out the fold for company.
    if (pending.ids.length >= MAX_IDS_PER_ACK) this.#flushSoon();
    else this.#foldTimer ??= this.#deps.clock.setTimeout(() => this.#flush(), ACK_SEND_FOLD_MS);
  }

  #flushSoon(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => this.#flush());
  }

  stop(): void {
    this.#foldTimer?.cancel();
    this.#foldTimer = undefined;
    this.#pending.clear();
  }

  #flush(): void {
    this.#flushScheduled = false;
    this.#foldTimer?.cancel();
    this.#foldTimer = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { publicKey, ids } of pending) {
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_ACK) void this.#deps.network.send(publicKey, ackEnvelope(ids.slice(i, i + MAX_IDS_PER_ACK)));
    }
  }

  /**
   * The peer stored what we sent: those entries leave the outbox; a message is delivered when
   * nobody owes it anymore. A whole Ack frame in two statements (delete the entries, advance
   * the messages), however many ids it carries.
   */
  receive(contact: Contact, body: Ack): void {
    const { uow, outbox, outgoing, delivery } = this.#deps;
    const ids = body.messageIds.length > MAX_IDS_PER_ACK ? body.messageIds.slice(0, MAX_IDS_PER_ACK) : body.messageIds;
    if (ids.length === 0) return;
    const removed = uow.tx(() => {
      const acked = outbox.acknowledgeAll(contact.uid, ids);
      if (acked.ackIds.length === 0) return acked;
      delivery.acked(contact.uid, acked.ackIds);
      // Straight from queued when the ack beats (or replaces) the network's written report.
      outgoing.markDeliveredUnlessOwed(acked.messageIds, ids);
      return acked;
    });
    if (removed.ackIds.length > 0) {
      delivery.ackProgress(contact.uid);
      outgoing.roomMayHaveOpened();
    }
  }
}
