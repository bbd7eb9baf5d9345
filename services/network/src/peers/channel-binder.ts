import type { Clock, Logger } from "@jarvis/core";
import type { ControlMessage } from "../framing/control.js";
import type { SecureChannel } from "../channel/secure-channel.js";
import type { ChannelTimeouts } from "../constants.js";
import { ChannelClosedError, errorCode } from "../errors.js";
import { Keepalive } from "./keepalive.js";
import type { PeerEntry } from "./peer-entry.js";
import { addChannelTotals } from "./peer-stats.js";
import { newChannelWins } from "./tie-break.js";
import { logPeerEvent } from "./peer-log.js";

export interface ChannelBinderOptions {
  /** Our static public key (the tie-break compares initiators). */
  ownKey: Buffer;
  clock: Clock;
  timeouts: ChannelTimeouts;
  logger: Logger;
  onPayload(entry: PeerEntry, payload: Buffer): void;
  onBound(entry: PeerEntry, channel: SecureChannel): void;
  /**
   * The entry's active channel closed and has been detached. `heard` tells whether it ever
   * carried a frame from the peer: the reconnect policy treats a silent channel as a refusal.
   */
  onLost(entry: PeerEntry, error: Error, heard: boolean): void;
}

/**
 * The life of one peer's active channel, from the moment it is authenticated to the moment it
 * stops being the active one: the tie-break against a channel already there, the connect
 * counters, the keepalive, reading paused or not, control chunks, and folding the channel's
 * counters into the peer's totals when it is retired. What happens next (redial, backoff)
 * is the PeerManager's business, told through onLost.
 */
export class ChannelBinder {
  #options: ChannelBinderOptions;

  constructor(options: ChannelBinderOptions) {
    this.#options = options;
  }

  /** A bug while setting up one channel closes that channel; it must never take the process down. */
  bindSafely(entry: PeerEntry, channel: SecureChannel): void {
    try {
      this.#bind(entry, channel);
    } catch (error) {
      this.#options.logger.error({ code: errorCode(error), err: error }, "channel setup failed unexpectedly");
      channel.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Applies the entry's inbound pause (set by the Link's backpressure) to its active channel. */
  applyReading(entry: PeerEntry): void {
    const channel = entry.channel;
    if (!channel) return;
    if (entry.inboundPaused) channel.pauseReading();
    else channel.resumeReading();
  }

  #bind(entry: PeerEntry, channel: SecureChannel): void {
    const existing = entry.channel;
    if (existing && !existing.closed) {
      if (!newChannelWins(this.#options.ownKey, existing, channel)) {
        this.#options.logger.debug({ peer: entry.uid }, "duplicate channel dropped (tie-break)");
        channel.close(new ChannelClosedError("duplicate channel", "duplicate-channel"));
        return;
      }
      this.#retire(entry, existing);
      existing.close(new ChannelClosedError("replaced by a newer channel", "duplicate-channel"));
    }
    const { clock, timeouts } = this.#options;
    entry.channel = channel;
    entry.heard = false;
    entry.lastAddress = channel.address;
    entry.stats.connectSuccesses++;
    if (!channel.outbound) entry.stats.connectAttempts++;
    entry.stats.connectedSince = clock.now();
    const keepalive = new Keepalive(channel, clock, timeouts, (rtt) => (entry.stats.rttMs = rtt));
    entry.keepalive = keepalive;
    channel.start({
      onPayload: (payload) => {
        this.#heard(entry, keepalive);
        this.#options.onPayload(entry, payload);
      },
      onControl: (message) => this.#onControl(entry, channel, keepalive, message),
      onClose: (error) => this.#onClosed(entry, channel, error),
    });
    this.applyReading(entry);
    keepalive.start();
    logPeerEvent(this.#options.logger, "channel established", entry.uid, { outbound: channel.outbound });
    this.#options.onBound(entry, channel);
  }

  /** The first frame from the peer proves the channel is a real session: only now is the backoff reset. */
  #heard(entry: PeerEntry, keepalive: Keepalive): void {
    keepalive.noteTraffic();
    if (entry.heard) return;
    entry.heard = true;
    entry.reconnect.attempt = 0;
  }

  #onControl(entry: PeerEntry, channel: SecureChannel, keepalive: Keepalive, message: ControlMessage): void {
    this.#heard(entry, keepalive);
    if (message.kind === "ping") keepalive.onPing(message.nonce);
    else if (message.kind === "pong") keepalive.onPong(message.nonce);
    // The peer closes on purpose: not an error. Its reason is not read, logged or passed on.
    else if (message.kind === "goodbye") channel.close(new ChannelClosedError("peer said goodbye", "goodbye"));
  }

  #onClosed(entry: PeerEntry, channel: SecureChannel, error: Error): void {
    if (entry.channel !== channel) return; // a replaced duplicate
    const heard = entry.heard;
    this.#retire(entry, channel);
    this.#options.onLost(entry, error, heard);
  }

  /** Moves a channel's counters into the peer's totals when it stops being the active one. */
  #retire(entry: PeerEntry, channel: SecureChannel): void {
    if (entry.channel !== channel) return;
    addChannelTotals(entry.stats, channel, this.#options.clock.now());
    entry.stats.connectedSince = undefined;
    entry.keepalive?.stop();
    entry.keepalive = undefined;
    entry.channel = undefined;
  }
}
