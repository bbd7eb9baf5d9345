import { connect as netConnect, type Socket } from "node:net";
import { parseHostPort, TimeoutError, type Clock } from "@jarvis/core";
import type { KeyPair } from "../noise/index.js";
import type { ChannelTimeouts } from "../constants.js";
import { FramedSocket } from "../channel/framed-socket.js";
import { runHandshake } from "../channel/handshake.js";
import { SecureChannel } from "../channel/secure-channel.js";
import { MAX_HANDSHAKE_FRAME } from "../channel/protocol.js";

export interface DialParams {
  address: string;
  expectedKey: Buffer;
  staticKeyPair: KeyPair;
  clock: Clock;
  timeouts: ChannelTimeouts;
}

/**
 * Dials one address: TCP connect (connect timeout), then the initiator side of Noise XX
 * (handshake timeout). Sockets still connecting or in the handshake are tracked, so that
 * close() can destroy them instead of leaving them to their timeouts.
 */
export class Dialer {
  readonly #inFlight = new Set<FramedSocket>();

  async dial(params: DialParams): Promise<SecureChannel> {
    const { host, port } = parseHostPort(params.address);
    const socket = netConnect({ host, port });
    socket.setNoDelay(true);
    const framed = new FramedSocket(socket, MAX_HANDSHAKE_FRAME);
    this.#inFlight.add(framed);
    try {
      await connected(socket, framed, params);
      const result = await runHandshake(framed, {
        initiator: true,
        staticKeyPair: params.staticKeyPair,
        expectedRemoteKey: params.expectedKey,
        clock: params.clock,
        timeoutMs: params.timeouts.handshakeMs,
      });
      return new SecureChannel({ framed, ...result, outbound: true, address: params.address, openedAt: params.clock.now() });
    } catch (error) {
      framed.destroy(error as Error);
      throw error;
    } finally {
      this.#inFlight.delete(framed);
    }
  }

  /** Destroys every dial in flight; resolves when their sockets are closed. */
  async close(error: Error): Promise<void> {
    const closing = [...this.#inFlight].map((framed) => {
      const closed = framed.whenClosed();
      framed.destroy(error);
      return closed;
    });
    this.#inFlight.clear();
    await Promise.all(closing);
  }
}

function connected(socket: Socket, framed: FramedSocket, params: DialParams): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = params.clock.setTimeout(() => {
      const error = new TimeoutError(`connect to ${params.address} timed out`, "connect-timeout");
      framed.destroy(error);
      reject(error);
    }, params.timeouts.connectMs);
    socket.once("connect", () => {
      timer.cancel();
      resolve();
    });
    framed.onClose((error) => {
      timer.cancel();
      reject(error);
    });
  });
}
