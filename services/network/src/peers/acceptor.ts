import type { Socket } from "node:net";
import type { Clock, Logger } from "@jarvis/core";
import type { KeyPair } from "../noise/index.js";
import type { ChannelTimeouts, HandshakeLimits } from "../constants.js";
import { FramedSocket } from "../channel/framed-socket.js";
import { runHandshake } from "../channel/handshake.js";
import { SecureChannel } from "../channel/secure-channel.js";
import { MAX_HANDSHAKE_FRAME } from "../channel/protocol.js";
import { ChannelClosedError, HandshakeError, errorCode } from "../errors.js";
import { PendingBySource, handshakeSource } from "./handshake-sources.js";

export interface AcceptorOptions {
  staticKeyPair: KeyPair;
  clock: Clock;
  timeouts: ChannelTimeouts;
  limits: HandshakeLimits;
  isAllowed(key: Buffer): boolean;
  onChannel(channel: SecureChannel): void;
  onFailure(error: unknown): void;
  logger: Logger;
}

/**
 * The responder side: runs Noise XX on accepted sockets, with the number of unauthenticated
 * handshakes capped in total and per source (an IPv4 address, an IPv6 /64), so one stranger's
 * flood cannot use up the slots a contact needs (design §4). Over the per-source cap the new
 * socket is closed at once. When the total is full, a newcomer from a source holding fewer
 * slots than the largest source takes that source's oldest slot, and a newcomer from a fresh
 * source can always get in this way. Strangers holding one slot each from as many sources as
 * there are slots therefore cannot lock a contact out: the contact's handshake evicts the
 * oldest of theirs, and to push the contact out again they must churn through the whole table
 * within the contact's handshake round trips.
 */
export class Acceptor {
  #options: AcceptorOptions;
  #pending = new Set<FramedSocket>();
  #bySource = new PendingBySource<FramedSocket>();
  #closed = false;

  constructor(options: AcceptorOptions) {
    this.#options = options;
  }

  get pendingHandshakes(): number {
    return this.#pending.size;
  }

  accept(socket: Socket): void {
    const source = handshakeSource(socket.remoteAddress);
    const { limits } = this.#options;
    const fromSource = this.#bySource.count(source);
    if (this.#closed || fromSource >= limits.pendingPerAddress || !this.#makeRoom(fromSource)) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const address = `${source}:${socket.remotePort ?? 0}`;
    const framed = new FramedSocket(socket, MAX_HANDSHAKE_FRAME);
    this.#track(framed, source, +1);
    runHandshake(framed, {
      initiator: false,
      staticKeyPair: this.#options.staticKeyPair,
      isAllowed: (key) => this.#options.isAllowed(key),
      clock: this.#options.clock,
      timeoutMs: this.#options.timeouts.handshakeMs,
    }).then(
      (result) => {
        this.#track(framed, source, -1);
        if (this.#closed) return framed.destroy(new ChannelClosedError("shutting down"));
        this.#options.onChannel(new SecureChannel({ framed, ...result, outbound: false, address, openedAt: this.#options.clock.now() }));
      },
      (error: unknown) => {
        this.#track(framed, source, -1);
        if (!this.#closed) this.#options.onFailure(error);
        this.#options.logger.debug({ address, code: errorCode(error) }, "inbound handshake failed");
        framed.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /** Refuses new sockets and destroys the handshakes in progress; resolves when they are closed. */
  async close(error: Error): Promise<void> {
    this.#closed = true;
    const closing = [...this.#pending].map((framed) => {
      const closed = framed.whenClosed();
      framed.destroy(error);
      return closed;
    });
    this.#pending.clear();
    this.#bySource.clear();
    await Promise.all(closing);
  }

  /** True if a handshake from a source holding `fromSource` slots may start now. */
  #makeRoom(fromSource: number): boolean {
    if (this.#pending.size < this.#options.limits.pendingTotal) return true;
    const victim = this.#bySource.oldestOfLargest(fromSource);
    if (!victim) return false;
    this.#track(victim.item, victim.source, -1);
    victim.item.destroy(new HandshakeError("evicted: its source holds too many pending handshakes", "handshake-evicted"));
    return true;
  }

  #track(framed: FramedSocket, source: string, delta: 1 | -1): void {
    if (delta > 0) {
      this.#pending.add(framed);
      this.#bySource.add(source, framed);
    } else if (this.#pending.delete(framed)) {
      this.#bySource.delete(source, framed);
    }
  }
}
