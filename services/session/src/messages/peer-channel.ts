import { Backoff, type Clock, type TimerHandle } from "@jarvis/core";
import type { FrameOutcome, PeerNetwork } from "../peer-network.js";
import type { OutboxRepo } from "./outbox-repo.js";
import { type OutboxItem } from "./outgoing.js";
import { OUTBOX_LIMITS } from "../constants.js";
import { MAX_QUEUED_BYTES_PER_PEER, RESEND_PAGE } from "../constants.js";

export interface PeerChannelDeps {
  uid: string;
  publicKey: Buffer;
  /** The network channel this pump feeds; its frames never go out on a later one. */
  channelId: bigint;
  network: PeerNetwork;
  outbox: OutboxRepo;
  clock: Clock;
  onOutcome: (item: OutboxItem, outcome: FrameOutcome) => void;
}

/**
 * Delivery to one connected peer, in outbox order. New entries arrive from memory (offer);
 * the outbox is read only to catch up — on connect, on a retry, or when more is waiting than
 * we keep in memory. One pump per peer awaits the network's per-peer window, so a slow peer
 * holds back only its own queue. While anything handed over is unacked, a retry timer
 * (backoff on the clock) rewinds and resends everything still owed; dedup makes that safe.
 */
export class PeerChannel {
  #deps: PeerChannelDeps;
  #queue: OutboxItem[] = [];
  #queuedBytes = 0;
  /** Highest seq taken into the queue (and so handed over, or about to be). */
  #lastSeq = 0;
  /** The outbox holds entries after #lastSeq that are not in the queue. */
  #behind = true;
  #pumping = false;
  #closed = false;
  #retryTimer: TimerHandle | undefined;
  #lastAckAt: number | undefined;
  #backoff = new Backoff({ ...OUTBOX_LIMITS.retry, jitter: "none" });

  constructor(deps: PeerChannelDeps) {
    this.#deps = deps;
  }

  /** Hello first, then the backlog in order, then whatever is sent next. */
  start(hello: Buffer): void {
    void this.#deps.network.send(this.#deps.publicKey, hello, undefined, this.#deps.channelId);
    this.#kick();
  }

  offer(item: OutboxItem): void {
    if (this.#closed || item.seq <= this.#lastSeq) return;
    if (!this.#behind && this.#queuedBytes + item.payload.length <= MAX_QUEUED_BYTES_PER_PEER) {
      this.#push(item);
    } else {
      // Left in the outbox; the pump reads it from there in order once it has caught up.
      this.#behind = true;
    }
    this.#kick();
  }

  /** The peer acked something: it is alive and reading, so start the backoff over. */
  progressed(): void {
    this.#backoff.reset();
    this.#lastAckAt = this.#deps.clock.now();
  }

  /**
   * The peer acked within the last `windowMs`: the path is working, so a backlog to it means we
   * send faster than it delivers (overload), not that it stalled (which is like being offline).
   */
  ackedWithin(windowMs: number): boolean {
    return this.#lastAckAt !== undefined && this.#deps.clock.now() - this.#lastAckAt <= windowMs;
  }

  /** A frame was not sent: it is still in the outbox; the next retry resends it. */
  dropped(): void {
    this.#armRetry();
  }

  /** Bytes of entries held in memory for this peer, not yet handed to the network. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get retryAttempt(): number {
    return this.#backoff.attempt;
  }

  close(): void {
    this.#closed = true;
    this.#retryTimer?.cancel();
    this.#retryTimer = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  #push(item: OutboxItem): void {
    this.#queue.push(item);
    this.#queuedBytes += item.payload.length;
    this.#lastSeq = item.seq;
  }

  #kick(): void {
    if (!this.#pumping && !this.#closed) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.#closed) {
        if (this.#queue.length === 0 && this.#behind) this.#refill();
        const item = this.#queue.shift();
        if (!item) break;
        this.#queuedBytes -= item.payload.length;
        // Only a full window makes us wait: frames that fit all go in this job, in one Link message.
        const waiting = this.#deps.network.send(this.#deps.publicKey, item.payload, (outcome) => this.#deps.onOutcome(item, outcome), this.#deps.channelId);
        if (waiting) await waiting;
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#lastSeq > 0) this.#armRetry();
  }

  #refill(): void {
    const page = this.#deps.outbox.pending(this.#deps.uid, this.#lastSeq, RESEND_PAGE);
    for (const entry of page) this.#push(entry);
    this.#behind = page.length === RESEND_PAGE;
  }

  #armRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = this.#deps.clock.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closed) return;
      const oldest = this.#deps.outbox.oldestSeq(this.#deps.uid);
      if (oldest === undefined || oldest > this.#lastSeq) {
        this.#backoff.reset();
        return;
      }
      this.#rewind();
    }, this.#backoff.next());
  }

  /** Resends everything still owed, from the oldest entry. */
  #rewind(): void {
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#lastSeq = 0;
    this.#behind = true;
    this.#kick();
  }
}
