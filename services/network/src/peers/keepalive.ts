import { randomBytes } from "node:crypto";
import { TimeoutError, type Clock, type TimerHandle } from "@jarvis/core";
import type { ChannelTimeouts } from "../constants.js";
import type { SecureChannel } from "../channel/secure-channel.js";

/**
 * The keepalive of one channel: a Ping control chunk every keepaliveInterval, and the channel
 * is dropped when nothing at all has arrived for idleTimeout. While we ourselves have paused
 * reading (our session is slow), silence is our doing, not the peer's, so it does not count.
 */
export class Keepalive {
  #channel: SecureChannel;
  #clock: Clock;
  #timeouts: ChannelTimeouts;
  #onRtt: (rttMs: number) => void;
  #timer: TimerHandle | undefined;
  #lastReceivedAt: number;
  #lastPingAt: number;
  #pendingPing: { nonce: bigint; sentAt: number } | undefined;

  constructor(channel: SecureChannel, clock: Clock, timeouts: ChannelTimeouts, onRtt: (rttMs: number) => void) {
    this.#channel = channel;
    this.#clock = clock;
    this.#timeouts = timeouts;
    this.#onRtt = onRtt;
    this.#lastReceivedAt = clock.now();
    this.#lastPingAt = clock.now();
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Any frame from the peer (payload or control) proves it is alive. */
  noteTraffic(): void {
    this.#lastReceivedAt = this.#clock.now();
  }

  onPing(nonce: bigint): void {
    if (!this.#channel.closed) this.#channel.sendControl({ kind: "pong", nonce });
  }

  onPong(nonce: bigint): void {
    if (this.#pendingPing?.nonce !== nonce) return;
    this.#onRtt(this.#clock.now() - this.#pendingPing.sentAt);
    this.#pendingPing = undefined;
  }

  /** The next wake-up is whichever comes first: the next ping or the idle deadline. */
  #schedule(): void {
    const wakeAt = Math.min(this.#lastPingAt + this.#timeouts.keepaliveIntervalMs, this.#lastReceivedAt + this.#timeouts.idleTimeoutMs);
    this.#timer = this.#clock.setTimeout(() => this.#wake(), Math.max(0, wakeAt - this.#clock.now()));
  }

  #wake(): void {
    const channel = this.#channel;
    if (channel.closed) return;
    const now = this.#clock.now();
    if (channel.readingPaused) this.#lastReceivedAt = now;
    if (now - this.#lastReceivedAt >= this.#timeouts.idleTimeoutMs) {
      channel.close(new TimeoutError("no traffic from peer within the keepalive timeout", "keepalive-timeout"));
      return;
    }
    if (now >= this.#lastPingAt + this.#timeouts.keepaliveIntervalMs) {
      const nonce = randomBytes(8).readBigUInt64BE();
      this.#pendingPing = { nonce, sentAt: now };
      this.#lastPingAt = now;
      channel.sendControl({ kind: "ping", nonce });
    }
    this.#schedule();
  }
}
