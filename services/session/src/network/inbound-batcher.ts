
import { MAX_INBOUND_PENDING_BYTES } from "../constants.js";
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
    options: { maxPendingBytes?: number; schedule?: (run: () => void) => void } = {},
  ) {
    this.#handle = handle;
    this.#maxPendingBytes = options.maxPendingBytes ?? MAX_INBOUND_PENDING_BYTES;
    this.#schedule = options.schedule ?? ((run) => void setImmediate(run));
  }

  get pendingBytes(): number {
    return this.#bytes;
  }

  push(key: Buffer, payload: Buffer): Promise<void> | undefined {
    if (this.#closed) return undefined;
    this.#frames.push({ key, payload });
    this.#bytes += payload.length;
    if (!this.#drained) {
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
    return this.#bytes > this.#maxPendingBytes ? this.#drained : undefined;
  }

  close(): void {
    this.#closed = true;
    this.#frames = [];
    this.#bytes = 0;
  }

  #drain(): void {
    const frames = this.#frames;
    this.#frames = [];
    this.#bytes = 0;
    this.#drained = undefined;
    if (!this.#closed && frames.length > 0) this.#handle(frames);
  }
}
