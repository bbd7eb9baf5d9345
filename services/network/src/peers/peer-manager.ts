import type { Socket } from "node:net";
import type { BackoffPolicy, Clock, Logger } from "@jarvis/core";
import type { KeyPair } from "../noise/index.js";
import { DEFAULT_FLOW_LIMITS, DEFAULT_HANDSHAKE_LIMITS, type ChannelTimeouts, type FlowLimits, type HandshakeLimits } from "../constants.js";
import { ChannelClosedError, NotConnectedError, PeerRejectedError, errorCode, errorMessage } from "../errors.js";
import { FrameError } from "../framing/frame-error.js";
import { Acceptor } from "./acceptor.js";
import { Dialer } from "./dialer.js";
import { ChannelBinder } from "./channel-binder.js";
import { sayGoodbye } from "./goodbye.js";
import { OutboundFlow } from "./outbound-flow.js";
import { newPeerEntry, peerInfo, type PeerEntry, type PeerInfo } from "./peer-entry.js";
import { countFailure, recordError, type ManagerCounters } from "./peer-stats.js";
import { ReconnectScheduler } from "./reconnect.js";
import { logPeerEvent } from "./peer-log.js";
import { keyHex } from "./key-hex.js";

export type { PeerInfo, PeerState } from "./peer-entry.js";
export type { ManagerCounters } from "./peer-stats.js";

export interface PeerManagerEvents {
  connected(publicKey: Buffer, address: string, outbound: boolean, channelId: bigint): void;
  disconnected(publicKey: Buffer, code: string, message: string): void;
  payload(publicKey: Buffer, payload: Buffer): void;
}

export interface PeerManagerOptions {
  staticKeyPair: KeyPair;
  clock: Clock;
  timeouts: ChannelTimeouts;
  backoff: BackoffPolicy;
  random?: () => number;
  logger: Logger;
  events: PeerManagerEvents;
  handshakeLimits?: HandshakeLimits;
  flowLimits?: FlowLimits;
}

/**
 * Owns every peer: takes authenticated channels from the Acceptor and the Dialer and hands
 * them to the ChannelBinder (one active channel per peer, kept alive), reconnects wanted
 * peers with backoff when it loses one, and bounds the bytes waiting to be written, per peer
 * and in total.
 */
export class PeerManager {
  #resetting = new WeakSet<object>();
  /** Resets ever started: while none has been, isResetting() answers without a lookup (it runs for every inbound frame). */
  #resetsStarted = 0;
  readonly counters: ManagerCounters = { rejectedPeers: 0, protocolErrors: 0, handshakeTimeouts: 0 };
  #options: PeerManagerOptions;
  #log: Logger;
  #peers = new Map<string, PeerEntry>();
  #allowed = new Set<string>();
  #acceptor: Acceptor;
  #dialer = new Dialer();
  #reconnect: ReconnectScheduler;
  #outbound: OutboundFlow;
  #binder: ChannelBinder;
  #closed = false;
  /** Channel ids increase over the life of the node, so a stale one never matches again. */
  #lastChannelId = 0n;

  constructor(options: PeerManagerOptions) {
    this.#options = options;
    this.#outbound = new OutboundFlow(options.flowLimits ?? DEFAULT_FLOW_LIMITS);
    this.#log = options.logger;
    this.#reconnect = new ReconnectScheduler(options.clock, options.backoff, options.random, options.logger);
    this.#binder = new ChannelBinder({
      ownKey: options.staticKeyPair.publicKey,
      clock: options.clock,
      timeouts: options.timeouts,
      logger: options.logger,
      onPayload: (entry, payload) => options.events.payload(entry.key, payload),
      onBound: (entry, channel) => {
        this.#reconnect.cancel(entry.reconnect);
        entry.channelId = ++this.#lastChannelId;
        options.events.connected(entry.key, channel.address, channel.outbound, entry.channelId);
      },
      onLost: (entry, error, heard) => this.#onLost(entry, error, heard),
    });
    this.#acceptor = new Acceptor({
      staticKeyPair: options.staticKeyPair,
      clock: options.clock,
      timeouts: options.timeouts,
      limits: options.handshakeLimits ?? DEFAULT_HANDSHAKE_LIMITS,
      isAllowed: (key) => this.isAllowed(key),
      onChannel: (channel) => this.#binder.bindSafely(this.#entry(channel.remoteKey), channel),
      onFailure: (error) => countFailure(this.counters, error),
      logger: options.logger,
    });
  }

  get publicKey(): Buffer {
    return this.#options.staticKeyPair.publicKey;
  }

  setAllowed(keys: Iterable<Uint8Array>): void {
    this.#allowed = new Set([...keys].map(keyHex));
    for (const entry of this.#peers.values()) {
      if (this.#allowed.has(entry.keyHex)) continue;
      entry.wanted = false;
      this.#reconnect.cancel(entry.reconnect);
      entry.channel?.close(new PeerRejectedError("peer is no longer allowed", "peer-removed"));
    }
  }

  isAllowed(key: Uint8Array): boolean {
    return this.#allowed.has(keyHex(key));
  }

  acceptSocket(socket: Socket): void {
    this.#acceptor.accept(socket);
  }

  /** Keeps a channel to this peer: dials now if needed and reconnects until disconnect(). */
  dial(publicKey: Uint8Array, addresses: string[]): void {
    const entry = this.#entry(Buffer.from(publicKey));
    entry.wanted = true;
    if (addresses.length > 0) {
      entry.addresses = [...addresses];
      entry.nextAddress = 0;
    }
    if (entry.channel || entry.dialing) return;
    this.#reconnect.cancel(entry.reconnect);
    this.#dialNow(entry);
  }

  disconnect(publicKey: Uint8Array): void {
    const entry = this.#peers.get(keyHex(publicKey));
    if (!entry) return;
    entry.wanted = false;
    this.#reconnect.cancel(entry.reconnect);
    if (entry.channel) sayGoodbye(entry.channel, this.#options.clock, "disconnect requested", "disconnect-requested");
  }

  /**
   * Closes the peer's channel but keeps wanting it (both sides redial). Used when an inbound
   * frame cannot be handed to a session: the sender learns the channel went, and resends from
   * its oldest unacknowledged message — in order — instead of carrying on with newer ones.
   */
  resetChannel(publicKey: Uint8Array): void {
    const channel = this.#peers.get(keyHex(publicKey))?.channel;
    if (!channel || channel.closed || this.#resetting.has(channel)) return;
    this.#resetting.add(channel);
    this.#resetsStarted++;
    sayGoodbye(channel, this.#options.clock, "no session to deliver to", "goodbye");
  }

  /** Whether the peer's current channel is being reset: what still arrives on it is not delivered. */
  isResetting(publicKey: Uint8Array): boolean {
    if (this.#resetsStarted === 0) return false;
    const channel = this.#peers.get(keyHex(publicKey))?.channel;
    return channel !== undefined && this.#resetting.has(channel);
  }

  /**
   * Writes one payload to the peer's channel. `onWritten` reports, once, whether it left this
   * process or was dropped. The returned promise resolves when there is room for more (the
   * peer's and the total unwritten bytes are under their caps): awaiting it is the backpressure
   * of the Link. Throws NotConnectedError or PayloadTooLargeError, having written nothing.
   */
  send(publicKey: Uint8Array, payload: Uint8Array, onWritten?: (error?: Error) => void, channelId = 0n): Promise<void> {
    // Not async (it runs per payload; its extra promise showed in the profile), yet every refusal is still a rejection.
    try {
      const entry = this.#peers.get(keyHex(publicKey));
      const channel = entry?.channel;
      if (!entry || !channel || channel.closed) throw new NotConnectedError();
      // Meant for a channel that has gone: sending it on this one would put it ahead of what the
      // session resends here, in order, from its oldest unacknowledged entry.
      if (channelId !== 0n && channelId !== entry.channelId) throw new ChannelClosedError("the frame's channel has closed", "stale-channel");
      return this.#outbound.send(channel, payload, onWritten);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Pauses or resumes reading one peer's channel (inbound backpressure from the Link). */
  setReadingPaused(publicKey: Buffer, paused: boolean): void {
    const entry = this.#peers.get(keyHex(publicKey));
    if (!entry) return;
    entry.inboundPaused = paused;
    this.#binder.applyReading(entry);
  }

  listPeers(): PeerInfo[] {
    return [...this.#peers.values()].map((entry) => peerInfo(entry, this.#options.clock.now()));
  }

  /** Says goodbye on every channel, stops every timer and closes every socket (resolves once they are closed). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const shuttingDown = new ChannelClosedError("shutting down");
    const closing: Promise<void>[] = [this.#acceptor.close(shuttingDown), this.#dialer.close(shuttingDown)];
    for (const entry of this.#peers.values()) {
      entry.wanted = false;
      this.#reconnect.cancel(entry.reconnect);
      entry.keepalive?.stop();
      const channel = entry.channel;
      if (channel && !channel.closed) {
        closing.push(channel.framed.whenClosed());
        sayGoodbye(channel, this.#options.clock, "shutting down", "goodbye");
      }
    }
    await Promise.all(closing);
    this.#outbound.releaseAll();
    // The identity is gone from this process once its channels are.
    this.#options.staticKeyPair.privateKey.fill(0);
  }

  #entry(key: Buffer): PeerEntry {
    const hex = keyHex(key);
    let entry = this.#peers.get(hex);
    if (!entry) {
      entry = newPeerEntry(key);
      this.#peers.set(hex, entry);
    }
    return entry;
  }

  #dialNow(entry: PeerEntry): void {
    if (this.#closed || entry.addresses.length === 0) return;
    const address = entry.addresses[entry.nextAddress % entry.addresses.length] as string;
    entry.nextAddress++;
    entry.dialing = true;
    entry.lastAddress = address;
    entry.stats.connectAttempts++;
    const { staticKeyPair, clock, timeouts } = this.#options;
    this.#dialer.dial({ address, expectedKey: entry.key, staticKeyPair, clock, timeouts }).then(
      (channel) => {
        entry.dialing = false;
        if (this.#closed) return channel.close(new ChannelClosedError("shutting down"));
        this.#binder.bindSafely(entry, channel);
      },
      (error: unknown) => {
        entry.dialing = false;
        if (this.#closed) return;
        this.#attemptFailed(entry, error);
        countFailure(this.counters, error);
        logPeerEvent(this.#log, "dial failed", entry.uid, { code: errorCode(error) });
      },
    );
  }

  /** The active channel is gone: count it, tell the Link, and decide how soon to redial. */
  #onLost(entry: PeerEntry, error: Error, heard: boolean): void {
    const code = errorCode(error);
    if (code === "decrypt-failed" || code === "frame-error" || error instanceof FrameError) this.counters.protocolErrors++;
    logPeerEvent(this.#log, "channel closed", entry.uid, { code });
    this.#options.events.disconnected(entry.key, code, errorMessage(error));
    // Closed before the peer said anything (e.g. it has not added us and drops us after the
    // handshake): a failed attempt, so the redial backs off instead of storming.
    if (!heard && code !== "disconnect-requested" && code !== "goodbye") this.#attemptFailed(entry, error);
    else {
      if (code !== "goodbye" && code !== "disconnect-requested") recordError(entry.stats, error, this.#options.clock.now());
      this.#scheduleReconnect(entry);
    }
  }

  #attemptFailed(entry: PeerEntry, error: unknown): void {
    entry.stats.connectFailures++;
    recordError(entry.stats, error, this.#options.clock.now());
    this.#scheduleReconnect(entry);
  }

  #scheduleReconnect(entry: PeerEntry): void {
    if (!entry.wanted || this.#closed || entry.channel) return;
    this.#reconnect.schedule(entry.reconnect, entry.uid, () => {
      if (entry.wanted && !entry.channel && !entry.dialing) this.#dialNow(entry);
    });
  }
}
