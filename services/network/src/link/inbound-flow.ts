import type { FlowLimits } from "../constants.js";
import { LOW_WATER_FRACTION } from "../constants.js";

/** What the inbound flow can do to a peer's socket. */
export interface ReadingControl {
  setReadingPaused(publicKey: Buffer, paused: boolean): void;
}

/**
 * Counts the bytes of inbound payloads that the session has not taken yet, per peer and in
 * total, and pauses reading a peer's socket while it is over its cap or the total is over
 * the total cap. A peer resumes once both its bytes and the total are under their low-water
 * marks. Per-peer caps are below the total, so one flooding peer stops on its own and the
 * others keep flowing. Memory held is thus at most the total cap plus, per peer, one payload
 * (the one that crossed the line) and one socket read.
 */
export class InboundFlow {
  #limits: Pick<FlowLimits, "inboundBytesPerPeer" | "inboundBytesTotal">;
  #reading: ReadingControl;
  #byPeer = new Map<string, { key: Buffer; bytes: number; paused: boolean }>();
  #total = 0;

  constructor(limits: Pick<FlowLimits, "inboundBytesPerPeer" | "inboundBytesTotal">, reading: ReadingControl) {
    this.#limits = limits;
    this.#reading = reading;
  }

  get queuedBytes(): number {
    return this.#total;
  }

  /** A payload from this peer was queued for the session. */
  added(publicKey: Buffer, bytes: number): void {
    const keyHex = publicKey.toString("hex");
    let peer = this.#byPeer.get(keyHex);
    if (!peer) {
      peer = { key: publicKey, bytes: 0, paused: false };
      this.#byPeer.set(keyHex, peer);
    }
    peer.bytes += bytes;
    this.#total += bytes;
    if (!peer.paused && (peer.bytes >= this.#limits.inboundBytesPerPeer || this.#total >= this.#limits.inboundBytesTotal)) {
      peer.paused = true;
      this.#reading.setReadingPaused(peer.key, true);
    }
  }

  /** The session took a payload from this peer. */
  taken(publicKey: Buffer, bytes: number): void {
    const keyHex = publicKey.toString("hex");
    const peer = this.#byPeer.get(keyHex);
    if (!peer) return;
    peer.bytes -= bytes;
    this.#total -= bytes;
    if (this.#total > this.#limits.inboundBytesTotal * LOW_WATER_FRACTION) return;
    // Under the total low-water mark: every paused peer that is itself under its mark goes on.
    for (const [hex, other] of this.#byPeer) {
      if (other.paused && other.bytes <= this.#limits.inboundBytesPerPeer * LOW_WATER_FRACTION) {
        other.paused = false;
        this.#reading.setReadingPaused(other.key, false);
      }
      if (!other.paused && other.bytes === 0) this.#byPeer.delete(hex);
    }
  }

  /** Forgets everything queued (the Link ended) and lets every paused peer go on. */
  reset(): void {
    for (const peer of this.#byPeer.values()) if (peer.paused) this.#reading.setReadingPaused(peer.key, false);
    this.#byPeer.clear();
    this.#total = 0;
  }
}
