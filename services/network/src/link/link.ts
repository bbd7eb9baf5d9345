import { AsyncQueue, systemClock, type TimerHandle } from "@jarvis/core";
import { errorCode, errorMessage } from "../errors.js";
import type { InboundFlow } from "./inbound-flow.js";

/** What the network tells the session, in order. */
export type LinkEvent =
  | { kind: "frame"; publicKey: Buffer; payload: Buffer }
  | { kind: "frames"; frames: { publicKey: Buffer; payload: Buffer }[] }
  | { kind: "connected"; publicKey: Buffer; address: string; outbound: boolean; channelId: bigint }
  | { kind: "disconnected"; publicKey: Buffer; code: string; message: string }
  | { kind: "sent"; publicKey: Buffer; frameIds: bigint[] }
  | { kind: "dropped"; publicKey: Buffer; frameId: bigint; code: string; message: string };

/**
 * How long written reports gather before they go to the session. A session looks at them only
 * for frames its peer has not acked within its own fold (100 ms) and to free its send window,
 * so a report per written frame cost it a wake-up per message at a steady rate of lone sends.
 * Real time, not the node's clock: it only bounds how late a report may come.
 */
export const SENT_REPORT_FOLD_MS = 10;
/** A peer's reports go at once when they free this much of the session's send window (1 MiB by default). */
export const SENT_REPORT_FLUSH_BYTES = 256 * 1024;

/** Writes a payload to a peer; see PeerManager.send. */
export type PayloadSender = (
  publicKey: Uint8Array,
  payload: Uint8Array,
  onWritten: ((error?: Error) => void) | undefined,
  channelId: bigint,
) => Promise<void>;

/**
 * The session's side of the network, as a domain object (routes.ts translates it to the Link
 * RPC). Inbound: an ordered stream of events whose payload bytes are counted by an InboundFlow
 * until the session takes them. Outbound: send() writes a frame and, for a frame_id other than
 * 0, reports exactly once — FramesSent once it was written, batched per peer over
 * SENT_REPORT_FOLD_MS in write order, or FrameDropped with the error's code (after the reports
 * of earlier frames to that peer, as is a disconnect).
 */
export class Link implements AsyncIterable<LinkEvent> {
  #queue = new AsyncQueue<LinkEvent>();
  #inbound: InboundFlow;
  #sender: PayloadSender;
  #sentBatches = new Map<string, { publicKey: Buffer; frameIds: bigint[]; bytes: number }>();
  #sentFold: TimerHandle | undefined;
  /** Set once the session asked for inbound batches (LinkOptions); until then one event per frame. */
  #batchInbound = false;
  #inboundBatch: { publicKey: Buffer; payload: Buffer }[] = [];

  constructor(sender: PayloadSender, inbound: InboundFlow) {
    this.#sender = sender;
    this.#inbound = inbound;
  }

  get ended(): boolean {
    return this.#queue.ended;
  }

  /**
   * From now on, frames received in one job (one socket read and what it decoded) go to the
   * session as one "frames" event (in arrival order, never reordered around other events).
   */
  batchInbound(): void {
    this.#batchInbound = true;
  }

  /** Queues an event for the session; payload bytes count against the inbound caps until taken. */
  deliver(event: LinkEvent): void {
    if (this.ended) return;
    if (event.kind === "frame") {
      this.#inbound.added(event.publicKey, event.payload.length);
      if (this.#batchInbound) {
        this.#inboundBatch.push({ publicKey: event.publicKey, payload: event.payload });
        // Flushed when the current job (this socket read and its microtasks) is done: every
        // frame that read decoded is one event, and a lone frame does not wait for the rest of
        // the event loop's turn (the other sockets' reads) before the session sees it.
        if (this.#inboundBatch.length === 1) process.nextTick(() => this.#flushInbound());
        return;
      }
    } else {
      // Frames that arrived before this event reach the session before it, and so do the
      // reports of frames written to a peer before it disconnected.
      this.#flushInbound();
      if (event.kind === "disconnected") this.#flush(event.publicKey.toString("hex"));
    }
    this.#queue.push(event);
  }

  #flushInbound(): void {
    const frames = this.#inboundBatch;
    if (frames.length === 0 || this.ended) return;
    this.#inboundBatch = [];
    this.#queue.push(frames.length === 1 ? { kind: "frame", ...(frames[0] as { publicKey: Buffer; payload: Buffer }) } : { kind: "frames", frames });
  }

  /** Writes one outbound frame; resolves when the network has room for the next (never rejects). */
  async send(publicKey: Uint8Array, payload: Uint8Array, frameId: bigint, channelId = 0n): Promise<void> {
    const key = Buffer.from(publicKey);
    const report = frameId === 0n ? undefined : (error?: Error) => (error ? this.#dropped(key, frameId, error) : this.#sent(key, frameId, payload.length));
    try {
      await this.#sender(key, payload, report, channelId);
    } catch (error) {
      report?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  end(): void {
    this.#sentFold?.cancel();
    this.#sentFold = undefined;
    this.#sentBatches.clear();
    this.#queue.end();
    this.#inboundBatch = [];
    this.#inbound.reset();
  }

  async next(): Promise<IteratorResult<LinkEvent>> {
    const result = await this.#queue.next();
    if (result.done) return result;
    const event = result.value;
    if (event.kind === "frame") this.#inbound.taken(event.publicKey, event.payload.length);
    if (event.kind === "frames") for (const frame of event.frames) this.#inbound.taken(frame.publicKey, frame.payload.length);
    return result;
  }

  [Symbol.asyncIterator](): AsyncIterator<LinkEvent> {
    return {
      next: () => this.next(),
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  #sent(publicKey: Buffer, frameId: bigint, size: number): void {
    const keyHex = publicKey.toString("hex");
    let batch = this.#sentBatches.get(keyHex);
    if (!batch) {
      batch = { publicKey, frameIds: [], bytes: 0 };
      this.#sentBatches.set(keyHex, batch);
    }
    batch.frameIds.push(frameId);
    batch.bytes += size;
    if (batch.bytes >= SENT_REPORT_FLUSH_BYTES) return this.#flush(keyHex);
    this.#sentFold ??= systemClock.setTimeout(() => {
      this.#sentFold = undefined;
      for (const keyHex of [...this.#sentBatches.keys()]) this.#flush(keyHex);
    }, SENT_REPORT_FOLD_MS);
  }

  #flush(keyHex: string): void {
    const batch = this.#sentBatches.get(keyHex);
    if (!batch) return;
    this.#sentBatches.delete(keyHex);
    this.deliver({ kind: "sent", publicKey: batch.publicKey, frameIds: batch.frameIds });
  }

  /** Sent reports of earlier frames to the same peer go out first, so a session sees them in order. */
  #dropped(publicKey: Buffer, frameId: bigint, error: unknown): void {
    this.#flush(publicKey.toString("hex"));
    this.deliver({ kind: "dropped", publicKey, frameId, code: errorCode(error), message: errorMessage(error) });
  }
}
