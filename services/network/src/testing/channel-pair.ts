import { FakeClock } from "@jarvis/core";
import { FramedSocket } from "../channel/framed-socket.js";
import { runHandshake } from "../channel/handshake.js";
import { SecureChannel } from "../channel/secure-channel.js";
import { MAX_HANDSHAKE_FRAME } from "../channel/protocol.js";
import { generateKeyPair } from "../noise/index.js";
import { duplexPair, type DuplexPairOptions, type MemoryDuplex } from "./duplex-pair.js";

export interface ChannelPair {
  /** The initiator's channel (writes go through the pair's tapAtoB). */
  a: SecureChannel;
  b: SecureChannel;
  streams: [MemoryDuplex, MemoryDuplex];
}

/**
 * Two SecureChannels joined in memory, after a real Noise XX handshake between them: the
 * channel code under test sees exactly what it would see over TCP, minus the kernel.
 */
export async function secureChannelPair(options: DuplexPairOptions = {}): Promise<ChannelPair> {
  const streams = duplexPair(options);
  const clock = new FakeClock();
  const [keysA, keysB] = [generateKeyPair(), generateKeyPair()];
  const framedA = new FramedSocket(streams[0], MAX_HANDSHAKE_FRAME);
  const framedB = new FramedSocket(streams[1], MAX_HANDSHAKE_FRAME);
  const [resultA, resultB] = await Promise.all([
    runHandshake(framedA, { initiator: true, staticKeyPair: keysA, expectedRemoteKey: keysB.publicKey, clock, timeoutMs: 10_000 }),
    runHandshake(framedB, { initiator: false, staticKeyPair: keysB, clock, timeoutMs: 10_000 }),
  ]);
  const channel = (framed: FramedSocket, result: typeof resultA, outbound: boolean) =>
    new SecureChannel({ framed, send: result.send, receive: result.receive, remoteKey: result.remoteKey, outbound, address: "memory", openedAt: 0 });
  return { a: channel(framedA, resultA, true), b: channel(framedB, resultB, false), streams };
}
