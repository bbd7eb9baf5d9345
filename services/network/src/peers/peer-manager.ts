import { connect as netConnect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import {
  backoffDelay,
  parseHostPort,
  uidFromPublicKey,
  TimeoutError,
  type BackoffPolicy,
  type Clock,
  type Logger,
  type TimerHandle,
} from "@jarvis/core";
import type { KeyPair } from "../noise/index.js";
import { FramedSocket } from "../channel/framed-socket.js";
import { runHandshake } from "../channel/handshake.js";
import { SecureChannel } from "../channel/secure-channel.js";
import { MAX_HANDSHAKE_FRAME, type ChannelTimeouts } from "../channel/protocol.js";
import { ChannelClosedError, NotConnectedError, PeerRejectedError, errorCode, errorMessage } from "../errors.js";
import { encodeGoodbye, encodePing, encodePong, parseKeepalive } from "./keepalive.js";
import { emptyStats, type PeerStatsSnapshot } from "./peer-stats.js";

export type PeerState = "disconnected" | "connecting" | "connected";

export interface PeerInfo {
  publicKey: Buffer;
  state: PeerState;
  address: string;
  outbound: boolean;
  stats: PeerStatsSnapshot;
}

export interface PeerManagerEvents {
  connected(publicKey: Buffer, address: string, outbound: boolean): void;
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
  /** Handshakes in progress from unauthenticated sockets beyond this are refused at once. */
  maxPendingHandshakes?: number;
  /** Bytes buffered for one peer before send() makes the caller wait (backpressure). */
  maxQueuedBytesPerPeer?: number;
}

export interface ManagerCounters {
  rejectedPeers: number;
  protocolErrors: number;
  handshakeTimeouts: number;
}

interface PeerEntry {
  key: Buffer;
  keyHex: string;
  /** For logs: peers are named by uid, never by key material. */
  uid: string;
  wanted: boolean;
  addresses: string[];
  nextAddress: number;
  channel: SecureChannel | undefined;
  dialing: boolean;
  attempt: number;
  reconnectTimer: TimerHandle | undefined;
  keepaliveTimer: TimerHandle | undefined;
  lastReceivedAt: number;
  lastPingAt: number;
  pendingPing: { nonce: bigint; sentAt: number } | undefined;
  lastAddress: string;
  stats: PeerStatsSnapshot;
}

/**
 * Owns every peer channel: accepts and dials, authenticates with Noise XX, keeps channels
 * alive, reconnects wanted peers with backoff, and resolves simultaneous dials to one channel
 * (the one dialled by the lower static key survives). All timing goes through the Clock.
 */
export class PeerManager {
  readonly counters: ManagerCounters = { rejectedPeers: 0, protocolErrors: 0, handshakeTimeouts: 0 };
  #options: PeerManagerOptions;
  #log: Logger;
  #peers = new Map<string, PeerEntry>();
  #allowed = new Set<string>();
  #pendingSockets = new Set<Socket>();
  /** Outbound sockets still connecting or in the handshake; close() must not leave them behind. */
  #dialSockets = new Set<Socket>();
  #closed = false;

  constructor(options: PeerManagerOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  get publicKey(): Buffer {
    return this.#options.staticKeyPair.publicKey;
  }

  setAllowed(keys: Iterable<Uint8Array>): void {
    this.#allowed = new Set([...keys].map((k) => Buffer.from(k).toString("hex")));
    for (const entry of this.#peers.values()) {
      if (this.#allowed.has(entry.keyHex)) continue;
      entry.wanted = false;
      entry.reconnectTimer?.cancel();
      entry.channel?.close(new PeerRejectedError("peer is no longer allowed", "peer-removed"));
    }
  }

  isAllowed(key: Uint8Array): boolean {
    return this.#allowed.has(Buffer.from(key).toString("hex"));
  }

  /** Accepts a socket from the listener and runs the responder side of the handshake. */
  acceptSocket(socket: Socket): void {
    const max = this.#options.maxPendingHandshakes ?? 256;
    if (this.#closed || this.#pendingSockets.size >= max) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.#pendingSockets.add(socket);
    const address = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    const framed = new FramedSocket(socket, MAX_HANDSHAKE_FRAME);
    runHandshake(framed, {
      initiator: false,
      staticKeyPair: this.#options.staticKeyPair,
      isAllowed: (key) => this.isAllowed(key),
      clock: this.#options.clock,
      timeoutMs: this.#options.timeouts.handshakeMs,
    }).then(
      (result) => {
        this.#pendingSockets.delete(socket);
        if (this.#closed) return framed.destroy(new ChannelClosedError("shutting down"));
        const channel = new SecureChannel({ framed, ...result, outbound: false, address, openedAt: this.#options.clock.now() });
        this.#registerSafely(this.#entry(result.remoteKey), channel);
      },
      (error: unknown) => {
        this.#pendingSockets.delete(socket);
        if (!this.#closed) this.#countFailure(error);
        this.#log.debug({ address, code: errorCode(error) }, "inbound handshake failed");
        framed.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
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
    entry.reconnectTimer?.cancel();
    entry.reconnectTimer = undefined;
    this.#dialNow(entry);
  }

  disconnect(publicKey: Uint8Array): void {
    const entry = this.#peers.get(Buffer.from(publicKey).toString("hex"));
    if (!entry) return;
    entry.wanted = false;
    entry.reconnectTimer?.cancel();
    entry.reconnectTimer = undefined;
    if (entry.channel) this.#goodbye(entry.channel, "disconnect requested", "disconnect-requested");
  }

  /**
   * Sends one payload. Resolves at once while the peer's buffer has room, otherwise when it
   * drains: awaiting it is the backpressure of the Link stream.
   */
  async send(publicKey: Uint8Array, payload: Uint8Array): Promise<void> {
    const entry = this.#peers.get(Buffer.from(publicKey).toString("hex"));
    const channel = entry?.channel;
    if (!entry || !channel || channel.closed) throw new NotConnectedError();
    try {
      channel.send(payload);
    } catch (error) {
      channel.close(error as Error);
      throw error;
    }
    if (channel.framed.socket.writableLength > (this.#options.maxQueuedBytesPerPeer ?? 4 * 1024 * 1024)) {
      await channel.drained();
    }
  }

  listPeers(): PeerInfo[] {
    return [...this.#peers.values()].map((entry) => this.#info(entry));
  }

  getPeer(publicKey: Uint8Array): PeerInfo | undefined {
    const entry = this.#peers.get(Buffer.from(publicKey).toString("hex"));
    return entry && this.#info(entry);
  }

  /** Says goodbye on every channel, stops every timer and closes every socket (resolves once they are closed). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing: Promise<void>[] = [];
    for (const socket of [...this.#pendingSockets, ...this.#dialSockets]) {
      closing.push(socketClosed(socket));
      socket.destroy();
    }
    this.#pendingSockets.clear();
    this.#dialSockets.clear();
    for (const entry of this.#peers.values()) {
      entry.wanted = false;
      entry.reconnectTimer?.cancel();
      entry.keepaliveTimer?.cancel();
      const channel = entry.channel;
      if (channel && !channel.closed) {
        closing.push(socketClosed(channel.framed.socket));
        this.#goodbye(channel, "shutting down", "goodbye");
      }
    }
    await Promise.all(closing);
    // The identity is gone from this process once its channels are.
    this.#options.staticKeyPair.privateKey.fill(0);
  }

  #entry(key: Buffer): PeerEntry {
    const keyHex = key.toString("hex");
    let entry = this.#peers.get(keyHex);
    if (!entry) {
      entry = {
        key: Buffer.from(key),
        keyHex,
        uid: uidFromPublicKey(key),
        wanted: false,
        addresses: [],
        nextAddress: 0,
        channel: undefined,
        dialing: false,
        attempt: 0,
        reconnectTimer: undefined,
        keepaliveTimer: undefined,
        lastReceivedAt: 0,
        lastPingAt: 0,
        pendingPing: undefined,
        lastAddress: "",
        stats: emptyStats(),
      };
      this.#peers.set(keyHex, entry);
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
    this.#connectAndHandshake(entry, address).then(
      (channel) => {
        entry.dialing = false;
        if (this.#closed) return channel.close(new ChannelClosedError("shutting down"));
        this.#registerSafely(entry, channel);
      },
      (error: unknown) => {
        entry.dialing = false;
        if (this.#closed) return;
        entry.stats.connectFailures++;
        this.#recordError(entry, error);
        this.#countFailure(error);
        this.#log.info({ peer: entry.uid, code: errorCode(error) }, "dial failed");
        this.#scheduleReconnect(entry);
      },
    );
  }

  /** A bug while setting up one channel closes that channel; it must never take the process down. */
  #registerSafely(entry: PeerEntry, channel: SecureChannel): void {
    try {
      this.#register(entry, channel);
    } catch (error) {
      this.#log.error({ code: errorCode(error), err: error }, "channel setup failed unexpectedly");
      channel.close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async #connectAndHandshake(entry: PeerEntry, address: string): Promise<SecureChannel> {
    const { host, port } = parseHostPort(address);
    const socket = netConnect({ host, port });
    socket.setNoDelay(true);
    const framed = new FramedSocket(socket, MAX_HANDSHAKE_FRAME);
    this.#dialSockets.add(socket);
    try {
      return await this.#dialOn(framed, entry, address);
    } finally {
      this.#dialSockets.delete(socket);
    }
  }

  async #dialOn(framed: FramedSocket, entry: PeerEntry, address: string): Promise<SecureChannel> {
    const { clock, timeouts } = this.#options;
    const socket = framed.socket;
    await new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        const error = new TimeoutError(`connect to ${address} timed out`, "connect-timeout");
        framed.destroy(error);
        reject(error);
      }, timeouts.connectMs);
      socket.once("connect", () => {
        timer.cancel();
        resolve();
      });
      framed.onClose((error) => {
        timer.cancel();
        reject(error);
      });
    });
    const result = await runHandshake(framed, {
      initiator: true,
      staticKeyPair: this.#options.staticKeyPair,
      expectedRemoteKey: entry.key,
      clock,
      timeoutMs: timeouts.handshakeMs,
    }).catch((error: unknown) => {
      framed.destroy(error as Error);
      throw error;
    });
    return new SecureChannel({ framed, ...result, outbound: true, address, openedAt: clock.now() });
  }

  #register(entry: PeerEntry, channel: SecureChannel): void {
    const existing = entry.channel;
    if (existing && !existing.closed) {
      if (!this.#newChannelWins(existing, channel)) {
        this.#log.debug({ peer: entry.uid }, "duplicate channel dropped (tie-break)");
        channel.close(new ChannelClosedError("duplicate channel", "duplicate-channel"));
        return;
      }
      this.#retire(entry, existing);
      existing.close(new ChannelClosedError("replaced by a newer channel", "duplicate-channel"));
    }
    const now = this.#options.clock.now();
    entry.channel = channel;
    entry.attempt = 0;
    entry.reconnectTimer?.cancel();
    entry.reconnectTimer = undefined;
    entry.lastReceivedAt = now;
    entry.lastPingAt = now;
    entry.pendingPing = undefined;
    entry.lastAddress = channel.address;
    entry.stats.connectSuccesses++;
    if (!channel.outbound) entry.stats.connectAttempts++;
    entry.stats.connectedSince = now;
    channel.start({
      onPayload: (payload) => this.#onPayload(entry, channel, payload),
      onClose: (error) => this.#onChannelClosed(entry, channel, error),
    });
    this.#scheduleKeepalive(entry, channel);
    this.#log.info({ peer: entry.uid, outbound: channel.outbound }, "channel established");
    this.#options.events.connected(entry.key, channel.address, channel.outbound);
  }

  /** Both ends apply the same rule, so they keep the same channel: the one the lower key dialled. */
  #newChannelWins(existing: SecureChannel, incoming: SecureChannel): boolean {
    const ownKey = this.publicKey;
    const initiatorOf = (channel: SecureChannel) => (channel.outbound ? ownKey : channel.remoteKey);
    const existingInitiator = initiatorOf(existing);
    const incomingInitiator = initiatorOf(incoming);
    if (existingInitiator.equals(incomingInitiator)) return true; // same dialler: the old one is stale
    return Buffer.compare(incomingInitiator, existingInitiator) < 0;
  }

  /** Moves a channel's counters into the peer's totals when it stops being the active one. */
  #retire(entry: PeerEntry, channel: SecureChannel): void {
    if (entry.channel !== channel) return;
    const now = this.#options.clock.now();
    const stats = entry.stats;
    stats.bytesSent += channel.framed.bytesSent;
    stats.bytesReceived += channel.framed.bytesReceived;
    stats.messagesSent += channel.messagesSent;
    stats.messagesReceived += channel.messagesReceived;
    if (stats.connectedSince !== undefined) stats.connectedDurationMs += now - stats.connectedSince;
    stats.connectedSince = undefined;
    entry.keepaliveTimer?.cancel();
    entry.keepaliveTimer = undefined;
    entry.channel = undefined;
  }

  #onChannelClosed(entry: PeerEntry, channel: SecureChannel, error: Error): void {
    if (entry.channel !== channel) return; // a replaced duplicate
    this.#retire(entry, channel);
    const code = errorCode(error);
    if (code !== "goodbye" && code !== "disconnect-requested") this.#recordError(entry, error);
    if (code === "decrypt-failed" || code === "frame-error") this.counters.protocolErrors++;
    this.#log.info({ peer: entry.uid, code }, "channel closed");
    this.#options.events.disconnected(entry.key, code, errorMessage(error));
    if (entry.wanted && !this.#closed) this.#scheduleReconnect(entry);
  }

  #onPayload(entry: PeerEntry, channel: SecureChannel, payload: Buffer): void {
    const now = this.#options.clock.now();
    entry.lastReceivedAt = now;
    const keepalive = parseKeepalive(payload);
    if (keepalive?.kind === "goodbye") {
      // The peer closes on purpose: not an error, and nothing more will come on this channel.
      channel.close(new ChannelClosedError("peer said goodbye", "goodbye"));
      return;
    }
    if (keepalive?.kind === "ping") {
      this.#sendQuietly(channel, encodePong(keepalive.nonce));
      return;
    }
    if (keepalive?.kind === "pong") {
      if (entry.pendingPing && entry.pendingPing.nonce === keepalive.nonce) {
        entry.stats.rttMs = now - entry.pendingPing.sentAt;
        entry.pendingPing = undefined;
      }
      return;
    }
    this.#options.events.payload(entry.key, payload);
  }

  /**
   * Pings every keepaliveInterval; drops the channel when nothing at all has arrived for
   * idleTimeout. The next wake-up is whichever of the two comes first.
   */
  #scheduleKeepalive(entry: PeerEntry, channel: SecureChannel): void {
    const { clock, timeouts } = this.#options;
    const nextPing = entry.lastPingAt + timeouts.keepaliveIntervalMs;
    const deadline = entry.lastReceivedAt + timeouts.idleTimeoutMs;
    const wakeAt = Math.min(nextPing, deadline);
    entry.keepaliveTimer = clock.setTimeout(() => {
      if (entry.channel !== channel || channel.closed) return;
      const now = clock.now();
      if (now - entry.lastReceivedAt >= timeouts.idleTimeoutMs) {
        channel.close(new TimeoutError("no traffic from peer within the keepalive timeout", "keepalive-timeout"));
        return;
      }
      if (now >= entry.lastPingAt + timeouts.keepaliveIntervalMs) {
        const nonce = randomBytes(8).readBigUInt64BE();
        entry.pendingPing = { nonce, sentAt: now };
        entry.lastPingAt = now;
        this.#sendQuietly(channel, encodePing(nonce));
      }
      this.#scheduleKeepalive(entry, channel);
    }, Math.max(0, wakeAt - clock.now()));
  }

  #scheduleReconnect(entry: PeerEntry): void {
    if (!entry.wanted || this.#closed || entry.reconnectTimer || entry.channel) return;
    const delay = backoffDelay(this.#options.backoff, entry.attempt, this.#options.random);
    entry.attempt++;
    this.#log.debug({ peer: entry.uid, delay, attempt: entry.attempt }, "reconnect scheduled");
    entry.reconnectTimer = this.#options.clock.setTimeout(() => {
      entry.reconnectTimer = undefined;
      if (entry.wanted && !entry.channel && !entry.dialing) this.#dialNow(entry);
    }, delay);
  }

  #goodbye(channel: SecureChannel, reason: string, code: "goodbye" | "disconnect-requested"): void {
    const closed = new ChannelClosedError(reason, code);
    this.#sendQuietly(channel, encodeGoodbye(reason));
    channel.framed.socket.end();
    // end() lets the goodbye flush; the peer then closes its side, and that is our close too
    // (with our reason, not "closed by peer"). A peer that never answers gets a second.
    channel.framed.socket.once("end", () => channel.close(closed));
    const timer = this.#options.clock.setTimeout(() => channel.close(closed), 1_000);
    channel.framed.onClose(() => timer.cancel());
  }

  #sendQuietly(channel: SecureChannel, payload: Uint8Array): void {
    try {
      if (!channel.closed) channel.send(payload);
    } catch (error) {
      channel.close(error as Error);
    }
  }

  #recordError(entry: PeerEntry, error: unknown): void {
    entry.stats.lastErrorCode = errorCode(error);
    entry.stats.lastError = errorMessage(error);
    entry.stats.lastErrorTime = this.#options.clock.now();
  }

  #countFailure(error: unknown): void {
    const code = errorCode(error);
    if (code === "unknown-peer") this.counters.rejectedPeers++;
    else if (code === "handshake-timeout") this.counters.handshakeTimeouts++;
    else if (code === "handshake-failed" || code === "frame-error") this.counters.protocolErrors++;
  }

  #info(entry: PeerEntry): PeerInfo {
    const stats = { ...entry.stats };
    const channel = entry.channel;
    if (channel) {
      stats.bytesSent += channel.framed.bytesSent;
      stats.bytesReceived += channel.framed.bytesReceived;
      stats.messagesSent += channel.messagesSent;
      stats.messagesReceived += channel.messagesReceived;
      if (stats.connectedSince !== undefined) stats.connectedDurationMs += this.#options.clock.now() - stats.connectedSince;
    }
    return {
      publicKey: entry.key,
      state: channel ? "connected" : entry.dialing ? "connecting" : "disconnected",
      address: channel?.address ?? entry.lastAddress,
      outbound: channel?.outbound ?? false,
      stats,
    };
  }
}

function socketClosed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once("close", () => resolve()));
}
