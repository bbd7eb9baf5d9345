
import { MAX_INBOUND_BATCH_BYTES, MAX_INBOUND_PENDING_BYTES } from "../constants.js";
export interface InboundFrame {
  key: Buffer;
  payload: Buffer;
}

/**
 * Frames that arrive together are handled together: one transaction per batch instead of
 * one per message, which is most of the cost of receiving. When more than a bound of bytes is
 * waiting, push() returns a promise that settles once the batch has been handled; the Link
 * reader awaits it, so the network pauses the peer sockets instead of us buffering.
 */
export class InboundBatcher {
  #handle: (frames: InboundFrame[]) => void;
  #maxPendingBytes: number;
  #maxBatchBytes: number;
  #schedule: (run: () => void) => void;
  #frames: InboundFrame[] = [];
  #bytes = 0;
  #drained: Promise<void> | undefined;
  #closed = false;

  /**
   * `schedule` runs the batch later in this turn's queue of work — by default its own
   * setImmediate; the session passes the unit of work's group commit, so a batch of inbound
   * frames shares one commit with the sends and reports of the same turn.
   */
  constructor(
    handle: (frames: InboundFrame[]) => void,
    options: { maxPendingBytes?: number; maxBatchBytes?: number; schedule?: (run: () => void) => void } = {},
  ) {
    this.#handle = handle;
    this.#maxPendingBytes = options.maxPendingBytes ?? MAX_INBOUND_PENDING_BYTES;
    this.#maxBatchBytes = options.maxBatchBytes ?? MAX_INBOUND_BATCH_BYTES;
    this.#schedule = options.schedule ?? ((run) => void setImmediate(run));
  }

  get pendingBytes(): number {
    return this.#bytes;
  }

  push(key: Buffer, payload: Buffer): Promise<void> | undefined {
    if (this.#closed) return undefined;
    this.#frames.push({ key, payload });
    this.#bytes += payload.length;
    if (!this.#drained) this.#scheduleDrain();
    return this.#bytes > this.#maxPendingBytes ? this.#drained : undefined;
  }

  #scheduleDrain(): void {
    this.#drained = new Promise<void>((resolve) =>
      this.#schedule(() => {
        try {
          this.#drain();
        } finally {
          resolve();
        }
      }),
    );
  }

  close(): void {
    this.#closed = true;
    this.#frames = [];
    this.#bytes = 0;
  }

  /** Handles up to maxBatchBytes (at least one frame); the rest is the next turn's batch. */
  #drain(): void {
    let take = 0;
    let bytes = 0;
    while (take < this.#frames.length && (take === 0 || bytes + (this.#frames[take] as InboundFrame).payload.length <= this.#maxBatchBytes)) {
      bytes += (this.#frames[take] as InboundFrame).payload.length;
      take++;
    }
    const frames = this.#frames.slice(0, take);
    this.#frames = this.#frames.slice(take);
    this.#bytes -= bytes;
    this.#drained = undefined;
    if (this.#frames.length > 0) this.#scheduleDrain();
    if (!this.#closed && frames.length > 0) this.#handle(frames);
  }
}
