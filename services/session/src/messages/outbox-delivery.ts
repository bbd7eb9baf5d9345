import { uidFromPublicKey, type Clock, type Logger, type TimerHandle } from "@jarvis/core";
import type { FrameOutcome, PeerNetwork } from "../peer-network.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { OutboxRepo } from "./outbox-repo.js";
import { type Outgoing, type OutboxItem } from "./outgoing.js";
import { OUTBOX_LIMITS } from "../constants.js";
import { PeerChannel } from "./peer-channel.js";

/**
 * How long the network's "written" reports wait before they are recorded: a message acked
 * within it goes from queued straight to delivered, and "sent" costs neither a row update nor
 * an event. A stream's acks come a batch round trip after the write (tens of ms, more under
 * load); 20 ms folded only a quiet sender's lone messages, while a stream recorded "sent" for
 * every message. A client sees "sent" at most this much later, and never after "delivered".
 */
export const SENT_FOLD_MS = 100;

const entryKey = (uid: string, ackId: string) => `${uid}\n${ackId}`;

/** One frame the network reported written, waiting out the fold. */
interface Written {
  item: OutboxItem;
  at: number;
  /** The peer acked it meanwhile (in a commit that held): recording "sent" is moot. */
  acked: boolean;
}

export interface OutboxDeliveryDeps {
  clock: Clock;
  log: Logger;
  network: PeerNetwork;
  uow: UnitOfWork;
  outbox: OutboxRepo;
  outgoing: Outgoing;
}

/**
 * Moves the outbox to the peers that are connected: one PeerChannel per channel, and the
 * network's reports applied in batches — a message becomes "sent" only once its frame was
 * written to the peer's channel; a receipt leaves the outbox only then. Dropped frames stay
 * in the outbox (state unchanged) for the next connect or retry. Also expires old entries.
 */
export class OutboxDelivery {
  #deps: OutboxDeliveryDeps;
  #channels = new Map<string, PeerChannel>();
  /** Written reports waiting out the fold, in report order (so oldest first). */
  #written: Written[] = [];
  /** The waiting reports an ack may make moot, by recipient and ack id. */
  #unacked = new Map<string, Written>();
  /** Reports marked acked by the transaction in progress: unmarked if it rolls back. */
  #ackedInTransaction: Written[] = [];
  #foldTimer: TimerHandle | undefined;
  #sweepTimer: TimerHandle | undefined;
  #stopped = false;

  constructor(deps: OutboxDeliveryDeps) {
    this.#deps = deps;
    // An ack that rolled back did not happen: its message must still be recorded "sent".
    deps.uow.onRollback(() => {
      for (const entry of this.#ackedInTransaction) entry.acked = false;
      this.#ackedInTransaction = [];
    });
    deps.uow.onTransactionEnd(() => (this.#ackedInTransaction = []));
  }

  start(): void {
    this.#sweep();
  }

  peerConnected(publicKey: Buffer, hello: Buffer, channelId: bigint): void {
    const uid = uidFromPublicKey(publicKey);
    this.#channels.get(uid)?.close();
    const channel = new PeerChannel({
      uid,
      publicKey,
      channelId,
      network: this.#deps.network,
      outbox: this.#deps.outbox,
      clock: this.#deps.clock,
      onOutcome: (item, outcome) => this.#onOutcome(item, outcome),
    });
    this.#channels.set(uid, channel);
    channel.start(hello);
  }

  peerDisconnected(uid: string): void {
    this.#channels.get(uid)?.close();
    this.#channels.delete(uid);
  }

  /** A new entry, just committed: straight to the peer's channel if it is connected. */
  offer(item: OutboxItem): void {
    this.#channels.get(item.recipientUid)?.offer(item);
  }

  /** The peer acked these entries (inside the transaction recording it). */
  acked(uid: string, ackIds: readonly string[]): void {
    if (this.#unacked.size === 0) return;
    for (const ackId of ackIds) {
      const key = entryKey(uid, ackId);
      const entry = this.#unacked.get(key);
      if (!entry) continue;
      this.#unacked.delete(key);
      entry.acked = true;
      this.#ackedInTransaction.push(entry);
    }
  }

  ackProgress(uid: string): void {
    this.#channels.get(uid)?.progressed();
  }

  channel(uid: string): PeerChannel | undefined {
    return this.#channels.get(uid);
  }

  stop(): void {
    this.#stopped = true;
    this.#sweepTimer?.cancel();
    this.#foldTimer?.cancel();
    for (const channel of this.#channels.values()) channel.close();
    this.#channels.clear();
    this.#written = [];
    this.#unacked.clear();
  }

  #onOutcome(item: OutboxItem, outcome: FrameOutcome): void {
    if (this.#stopped) return;
    if (!outcome.sent) {
      this.#deps.log.debug({ peer: item.recipientUid.slice(0, 8), code: outcome.code }, "frame not sent; kept in the outbox");
      this.#channels.get(item.recipientUid)?.dropped();
      return;
    }
    // Recorded once it is SENT_FOLD_MS old, in whichever commit comes then (or one of its
    // own): by then the ack usually made it moot.
    const entry: Written = { item, at: this.#deps.clock.now(), acked: false };
    this.#written.push(entry);
    if (item.needsAck && item.messageId) this.#unacked.set(entryKey(item.recipientUid, item.ackId), entry);
    if (!this.#foldTimer) this.#foldAfter(SENT_FOLD_MS);
  }

  #foldAfter(delayMs: number): void {
    const { uow, clock, log } = this.#deps;
    this.#foldTimer = clock.setTimeout(() => {
      uow.rideNextCommit(() => this.#applyDue(), (err: unknown) => log.warn({ err }, "written reports not applied"));
      uow.commitRidersNow();
    }, delayMs);
  }

  /** Records the reports that waited out the fold (inside a commit); the rest wait on. */
  #applyDue(): void {
    this.#foldTimer = undefined;
    if (this.#stopped) return;
    const now = this.#deps.clock.now();
    let due = 0;
    while (due < this.#written.length && (this.#written[due] as Written).at + SENT_FOLD_MS <= now) due++;
    const written = this.#written.splice(0, due);
    const next = this.#written[0];
    if (next) this.#foldAfter(next.at + SENT_FOLD_MS - now);
    if (written.length === 0) return;
    const { uow, outbox, outgoing, log } = this.#deps;
    const sent: string[] = [];
    for (const { item, acked } of written) {
      if (!item.needsAck || !item.messageId || acked) continue;
      this.#unacked.delete(entryKey(item.recipientUid, item.ackId));
      sent.push(item.messageId);
    }
    try {
      uow.tx(() => {
        for (const { item } of written) if (!item.needsAck) outbox.remove(item.seq);
        outgoing.markSent(sent);
      });
    } catch (error) {
      // Not recorded (e.g. the disk is full): the entries stay in the outbox as they were; a
      // message's ack still moves it to delivered, and a receipt is resent (dedup answers it).
      log.error({ err: error, frames: written.length }, "recording sent frames failed");
    }
  }

  #sweep(): void {
    if (this.#stopped) return;
    this.#deps.outgoing.expire();
    this.#sweepTimer = this.#deps.clock.setTimeout(() => this.#sweep(), OUTBOX_LIMITS.expirySweepMs);
  }
}
