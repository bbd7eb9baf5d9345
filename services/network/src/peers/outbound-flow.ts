import { MAX_CHUNK_DATA } from "../framing/chunking.js";
import type { SecureChannel } from "../channel/secure-channel.js";
import type { FlowLimits } from "../constants.js";

/** Bytes one payload occupies on the wire: per chunk a 2-byte length, a flag byte and a 16-byte tag. */
export function wireBytes(payloadLength: number): number {
  return payloadLength + Math.max(1, Math.ceil(payloadLength / MAX_CHUNK_DATA)) * 19;
}

/** One settled promise for every send that finds room (most of them). */
const ROOM: Promise<void> = Promise.resolve();

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
}

/**
 * Bounds the bytes handed to sockets and not yet written, per peer and in total. A send
 * resolves once both are under their caps again, so whoever awaits it (the Link) stops
 * reading more while a peer or the machine's sockets are behind.
 */
export class OutboundFlow {
  #limits: Pick<FlowLimits, "outboundBytesPerPeer" | "outboundBytesTotal">;
  #unwritten = 0;
  #waiters: Waiter[] = [];

  constructor(limits: Pick<FlowLimits, "outboundBytesPerPeer" | "outboundBytesTotal">) {
    this.#limits = limits;
  }

  get unwrittenBytes(): number {
    return this.#unwritten;
  }

  /** Writes the payload (see SecureChannel.send) and resolves when there is room for the next one. */
  send(channel: SecureChannel, payload: Uint8Array, onWritten?: (error?: Error) => void): Promise<void> {
    const size = wireBytes(payload.length);
    channel.send(payload, (error) => {
      this.#unwritten -= size;
      this.#recheck();
      onWritten?.(error);
    });
    this.#unwritten += size;
    if (this.#hasRoom(channel)) return ROOM;
    return new Promise((resolve) => this.#waiters.push({ ready: () => this.#hasRoom(channel), resolve }));
  }

  #hasRoom(channel: SecureChannel): boolean {
    return channel.closed || (channel.unwrittenBytes <= this.#limits.outboundBytesPerPeer && this.#unwritten <= this.#limits.outboundBytesTotal);
  }

  /** Lets every waiting sender go (shutdown). */
  releaseAll(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  #recheck(): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.ready()) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }
}
