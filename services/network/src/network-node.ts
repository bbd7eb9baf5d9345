import { createServer, type Server } from "node:net";
import {
  DEFAULT_RECONNECT_BACKOFF,
  FailedPreconditionError,
  InvalidArgumentError,
  UnavailableError,
  assertPublicKey,
  formatHostPort,
  parseHostPort,
  type BackoffPolicy,
  type Clock,
  type Logger,
} from "@jarvis/core";
import { keyPairFromPrivateKey } from "./noise/index.js";
import { DEFAULT_FLOW_LIMITS, DEFAULT_HANDSHAKE_LIMITS, DEFAULT_TIMEOUTS, type ChannelTimeouts, type FlowLimits, type HandshakeLimits } from "./constants.js";
import { InboundFlow, Link, type LinkEvent } from "./link/index.js";
import { PeerManager, type PeerInfo } from "./peers/peer-manager.js";

export type { LinkEvent } from "./link/index.js";

export interface NetworkNodeOptions {
  clock: Clock;
  logger: Logger;
  defaultListen: string;
  timeouts?: Partial<ChannelTimeouts>;
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Byte caps on what waits for the session (inbound) and for the sockets (outbound). */
  flowLimits?: Partial<FlowLimits>;
  handshakeLimits?: Partial<HandshakeLimits>;
}

export interface NetworkStatus {
  configured: boolean;
  listenAddress: string;
  publicKey: Buffer | undefined;
  rejectedPeers: number;
  protocolErrors: number;
  handshakeTimeouts: number;
}

/**
 * The network service's domain: one identity at a time (Configure/Unconfigure), a TCP
 * listener, the PeerManager, and the Link — the single, flow-controlled stream to the session.
 */
export class NetworkNode {
  #options: NetworkNodeOptions;
  #manager: PeerManager | undefined;
  #listener: Server | undefined;
  #listenAddress = "";
  #link: Link | undefined;
  #log: Logger;
  #flowLimits: FlowLimits;

  constructor(options: NetworkNodeOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#flowLimits = { ...DEFAULT_FLOW_LIMITS, ...options.flowLimits };
  }

  status(): NetworkStatus {
    const counters = this.#manager?.counters;
    return {
      configured: this.#manager !== undefined,
      listenAddress: this.#listenAddress,
      publicKey: this.#manager?.publicKey,
      rejectedPeers: counters?.rejectedPeers ?? 0,
      protocolErrors: counters?.protocolErrors ?? 0,
      handshakeTimeouts: counters?.handshakeTimeouts ?? 0,
    };
  }

  async configure(params: { privateKey: Uint8Array; listen: string; allowed: Uint8Array[] }): Promise<{ listenAddress: string; publicKey: Buffer }> {
    if (params.privateKey.length !== 32) throw new InvalidArgumentError("static_private_key must be 32 bytes");
    params.allowed.forEach(assertPublicKey);
    const keyPair = keyPairFromPrivateKey(params.privateKey);
    if (this.#manager && !this.#manager.publicKey.equals(keyPair.publicKey)) await this.unconfigure();
    if (!this.#manager) {
      const listen = parseHostPort(params.listen || this.#options.defaultListen, { allowZeroPort: true });
      const manager = new PeerManager({
        staticKeyPair: keyPair,
        clock: this.#options.clock,
        timeouts: { ...DEFAULT_TIMEOUTS, ...this.#options.timeouts },
        backoff: this.#options.backoff ?? DEFAULT_RECONNECT_BACKOFF,
        random: this.#options.random,
        flowLimits: this.#flowLimits,
        handshakeLimits: { ...DEFAULT_HANDSHAKE_LIMITS, ...this.#options.handshakeLimits },
        logger: this.#log.child({ component: "peers" }),
        events: {
          connected: (publicKey, address, outbound, channelId) => this.#emit({ kind: "connected", publicKey, address, outbound, channelId }),
          disconnected: (publicKey, code, message) => this.#emit({ kind: "disconnected", publicKey, code, message }),
          payload: (publicKey, payload) => this.#emit({ kind: "frame", publicKey, payload }),
        },
      });
      this.#listener = await listen_(listen.host, listen.port, (socket) => manager.acceptSocket(socket)).catch((error: unknown) => {
        throw new UnavailableError(`cannot listen on ${formatHostPort(listen)}: ${(error as Error).message}`, "listen-failed");
      });
      const bound = this.#listener.address();
      this.#listenAddress = typeof bound === "object" && bound ? formatHostPort({ host: bound.address, port: bound.port }) : "";
      this.#manager = manager;
      this.#log.info({ listen: this.#listenAddress }, "listening for peers");
    }
    this.#manager.setAllowed(params.allowed);
    return { listenAddress: this.#listenAddress, publicKey: this.#manager.publicKey };
  }

  setAllowed(keys: Uint8Array[]): void {
    keys.forEach(assertPublicKey);
    this.#requireManager().setAllowed(keys);
  }

  async unconfigure(): Promise<void> {
    const manager = this.#manager;
    const listener = this.#listener;
    this.#manager = undefined;
    this.#listener = undefined;
    this.#listenAddress = "";
    // Stop accepting first, but await the listener only after the manager has closed the
    // channels it accepted: server.close() calls back once every accepted socket is gone.
    const listenerClosed = listener ? new Promise<void>((resolve) => listener.close(() => resolve())) : undefined;
    if (manager) await manager.close();
    await listenerClosed;
  }

  dial(publicKey: Uint8Array, addresses: string[]): void {
    assertPublicKey(publicKey);
    for (const address of addresses) parseHostPort(address);
    if (addresses.length === 0) throw new InvalidArgumentError("at least one address is needed to dial");
    this.#requireManager().dial(publicKey, addresses);
  }

  disconnect(publicKey: Uint8Array): void {
    assertPublicKey(publicKey);
    this.#requireManager().disconnect(publicKey);
  }

  listPeers(): PeerInfo[] {
    return this.#manager?.listPeers() ?? [];
  }

  /**
   * Writes a payload to a peer; `onWritten` reports once whether it was written or dropped.
   * Resolves when there is room for more (see PeerManager.send).
   */
  send(publicKey: Uint8Array, payload: Uint8Array, onWritten?: (error?: Error) => void, channelId = 0n): Promise<void> {
    return this.#requireManager().send(publicKey, payload, onWritten, channelId);
  }

  /** Opens the Link; a newer Link replaces (ends) the older one. */
  openLink(): Link {
    this.#link?.end();
    const inbound = new InboundFlow(this.#flowLimits, { setReadingPaused: (key, paused) => this.#manager?.setReadingPaused(key, paused) });
    const link = new Link((key, payload, onWritten, channelId) => this.send(key, payload, onWritten, channelId), inbound);
    this.#link = link;
    // A session that (re)links learns about channels that are already up.
    for (const peer of this.listPeers()) {
      if (peer.state === "connected") link.deliver({ kind: "connected", publicKey: peer.publicKey, address: peer.address, outbound: peer.outbound, channelId: peer.channelId });
    }
    return link;
  }

  /** Ends a Link. Payloads it still held are released: their senders resend what was not acknowledged. */
  closeLink(link: Link): void {
    link.end();
    if (this.#link !== link) return;
    this.#link = undefined;
    // Frames the Link still held are lost with the session that went away. Resetting the
    // channels tells their senders now, so they resend from the oldest unacknowledged message
    // before any newer one reaches the next session (order and exactly-once both hold).
    for (const peer of this.listPeers()) {
      if (peer.state === "connected") this.#manager?.resetChannel(peer.publicKey);
    }
  }

  async close(): Promise<void> {
    this.#link?.end();
    this.#link = undefined;
    await this.unconfigure();
  }

  #emit(event: LinkEvent): void {
    // Frames still in flight on a channel being reset were sent after ones that were lost;
    // delivering them would put them ahead of those. The sender resends all of them, in order.
    if (event.kind === "frame" && this.#manager?.isResetting(event.publicKey)) return;
    const link = this.#link;
    // No session linked (it is starting or restarting): there is nobody to hand the frame to.
    // The sender's session keeps every message until our session acknowledges it; closing the
    // channel tells it so at once, and it resends from the oldest unacknowledged one on the
    // next channel — otherwise it would carry on with newer messages and resend the lost ones
    // later, out of order.
    if (!link) {
      if (event.kind === "frame") {
        this.#log.warn({}, "inbound frame not delivered: no session linked; resetting the channel");
        this.#manager?.resetChannel(event.publicKey);
      }
      return;
    }
    link.deliver(event);
  }

  #requireManager(): PeerManager {
    if (!this.#manager) throw new FailedPreconditionError("network is not configured: no identity loaded", "not-configured");
    return this.#manager;
  }
}

function listen_(host: string, port: number, onSocket: (socket: import("node:net").Socket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true }, onSocket);
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
