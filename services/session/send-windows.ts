import type { FrameOutcome } from "./src/peer-network.js";
import { DEFAULT_WINDOW_BYTES } from "./src/constants.js";

interface Window {
  bytes: number;
  waiters: { size: number; go: () => void; resolve: () => void }[];
}

interface InFlight {
  peer: string;
  size: number;
  onOutcome: ((outcome: FrameOutcome) => void) | undefined;
}

/**
 * Per-peer send windows for the Link: reserve() holds a frame back (in call order) while a
 * peer's unanswered bytes would exceed the window; each tracked frame is settled exactly once — by
 * the network's report, the peer's disconnect, or the link going down — which frees its bytes.
 * A frame larger than the window still goes, alone.
 */
export class SendWindows {
  #limit: number;
  #windows = new Map<string, Window>();
  #frames = new Map<bigint, InFlight>();
  #nextId = 1n;

  constructor(limit = DEFAULT_WINDOW_BYTES) {
    this.#limit = limit;
  }

  inFlight(peer: string): number {
    return this.#windows.get(peer)?.bytes ?? 0;
  }

  /**
   * Reserves room for a frame of `size` bytes and runs `go` (which sends it) once it has room:
   * at once when it fits and nobody waits before it, else from release(), in call order. `go`
   * runs synchronously either way, so a frame that fits leaves in the job that sent it (not a
   * promise turn later, behind whatever else that job queued), and a released waiter goes
   * before any later caller can. Returns a promise only when the frame had to wait: it
   * resolves once the frame went, for callers that hold back until then.
   */
  reserve(peer: string, size: number, go: () => void): Promise<void> | undefined {
    const window = this.#window(peer);
    if (window.waiters.length === 0 && this.#fits(window, size)) {
      window.bytes += size;
      go();
      return undefined;
    }
    return new Promise<void>((resolve) => window.waiters.push({ size, go, resolve }));
  }

  release(peer: string, size: number): void {
    const window = this.#windows.get(peer);
    if (!window) return;
    window.bytes -= size;
    while (window.waiters.length > 0 && this.#fits(window, (window.waiters[0] as { size: number }).size)) {
      const next = window.waiters.shift() as Window["waiters"][number];
      window.bytes += next.size;
      next.go();
      next.resolve();
    }
    if (window.bytes === 0 && window.waiters.length === 0) this.#windows.delete(peer);
  }

  /** Records a reserved frame as sent on the Link; returns its frame id. */
  track(peer: string, size: number, onOutcome: ((outcome: FrameOutcome) => void) | undefined): bigint {
    const id = this.#nextId++;
    this.#frames.set(id, { peer, size, onOutcome });
    return id;
  }

  /** Applies the network's report for one frame; unknown ids (already settled) are ignored. */
  settle(peer: string, id: bigint, outcome: FrameOutcome): void {
    const frame = this.#frames.get(id);
    if (!frame || frame.peer !== peer) return;
    this.#frames.delete(id);
    this.release(peer, frame.size);
    frame.onOutcome?.(outcome);
  }

  dropPeer(peer: string, code: string): void {
    for (const [id, frame] of this.#frames) if (frame.peer === peer) this.settle(peer, id, { sent: false, code });
  }

  dropAll(code: string): void {
    for (const [id, frame] of this.#frames) this.settle(frame.peer, id, { sent: false, code });
  }

  #window(peer: string): Window {
    let window = this.#windows.get(peer);
    if (!window) {
      window = { bytes: 0, waiters: [] };
      this.#windows.set(peer, window);
    }
    return window;
  }

  #fits(window: Window, size: number): boolean {
    return window.bytes === 0 || window.bytes + size <= this.#limit;
  }
}
