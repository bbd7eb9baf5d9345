import { uidFromPublicKey, type Clock, type Logger, type TimerHandle } from "@jarvis/core";
import type { FrameOutcome, PeerNetwork } from "../peer-network.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { OutboxRepo } from "./outbox-repo.js";
import { type Outgoing, type OutboxItem } from "./outgoing.js";
import { OUTBOX_LIMITS } from "../constants.js";
import { PeerChannel } from "./peer-channel.js";

/**
 * How long the network's "written" reports may wait to ride along with a commit that happens
 * anyway (usually the one that records the peer's ack, a round trip later) before they are
 * committed on their own. On a quiet node this saves a commit and its WAL pages per message,
 * and when the ack is in that commit, "sent" is not written at all: the message goes from
 * queued to delivered. A client sees "sent" at most this much later, and never after "delivered".
 */
export const SENT_FOLD_MS = 20;

const entryKey = (uid: string, ackId: string) => `${uid}\n${ackId}`;

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
  #written: OutboxItem[] = [];
  /** Entries acked since the pending written reports came: recording them "sent" is moot. */
  #ackedSinceWritten = new Set<string>();
  #foldTimer: TimerHandle | undefined;
  #sweepTimer: TimerHandle | undefined;
  #stopped = false;

  constructor(deps: OutboxDeliveryDeps) {
    this.#deps = deps;
    // An ack that rolled back did not happen: its message must still be recorded "sent".
    deps.uow.onRollback(() => this.#ackedSinceWritten.clear());
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
    if (this.#written.length === 0) return;
    for (const ackId of ackIds) this.#ackedSinceWritten.add(entryKey(uid, ackId));
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
  }

  #onOutcome(item: OutboxItem, outcome: FrameOutcome): void {
    if (this.#stopped) return;
    if (!outcome.sent) {
      this.#deps.log.debug({ peer: item.recipientUid.slice(0, 8), code: outcome.code }, "frame not sent; kept in the outbox");
      this.#channels.get(item.recipientUid)?.dropped();
      return;
    }
    // A lone report (a quiet sender) rides along with the next commit, after its writes, so an
    // ack in that commit makes it moot: the transient "sent" state costs no commit of its own
    // unless nothing commits for SENT_FOLD_MS. A burst (one FramesSent covering many frames: a
    // busy sender) goes into the next group commit at once, as any write does; measured, its
    // waiting made a stream's commits smaller and more frequent.
    this.#written.push(item);
    const { uow, clock, log } = this.#deps;
    if (this.#written.length === 2) {
      this.#foldTimer?.cancel();
      this.#foldTimer = undefined;
      uow.commitRidersNow();
    }
    if (this.#written.length > 1) return;
    uow.rideNextCommit(() => this.#applyWritten(), (err: unknown) => log.warn({ err }, "written reports not applied"));
    this.#foldTimer = clock.setTimeout(() => uow.commitRidersNow(), SENT_FOLD_MS);
  }

  #applyWritten(): void {
    this.#foldTimer?.cancel();
    this.#foldTimer = undefined;
    const written = this.#written;
    const acked = this.#ackedSinceWritten;
    this.#written = [];
    this.#ackedSinceWritten = new Set();
    if (this.#stopped || written.length === 0) return;
    const { uow, outbox, outgoing, log } = this.#deps;
    try {
      const sent: string[] = [];
      for (const item of written) {
        if (item.needsAck && item.messageId && (acked.size === 0 || !acked.has(entryKey(item.recipientUid, item.ackId)))) sent.push(item.messageId);
      }
      uow.tx(() => {
        for (const item of written) if (!item.needsAck) outbox.remove(item.seq);
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
