import type { Clock } from "@jarvis/core";
import { TimeoutError } from "@jarvis/core";
import { XXHandshake, type CipherState, type KeyPair } from "../noise/index.js";
import { HandshakeError, PeerRejectedError } from "../errors.js";
import type { FramedSocket } from "./framed-socket.js";
import { PROLOGUE } from "./protocol.js";

export interface HandshakeResult {
  send: CipherState;
  receive: CipherState;
  remoteKey: Buffer;
  handshakeHash: Buffer;
}

export interface HandshakeParams {
  initiator: boolean;
  staticKeyPair: KeyPair;
  /** Initiator only: the key the dialled peer must prove. */
  expectedRemoteKey?: Uint8Array;
  /** Responder only: whether a proven key may open a channel. */
  isAllowed?: (remoteKey: Buffer) => boolean;
  clock: Clock;
  timeoutMs: number;
}

/**
 * Runs Noise XX over a framed socket:
 *   -> e            (initiator)
 *   <- e, ee, s, es (responder proves its static key)
 *   -> s, se        (initiator proves its static key)
 * The initiator refuses to send its static key to a responder that is not the expected peer.
 * Handshake payloads are empty in protocol version 1; Hello travels as the first envelope.
 * A non-empty one is refused (docs/protocol.md §3): nothing reads it, so accepting it would only
 * give strangers an unauthenticated channel for bytes we buffer and decrypt for nothing, and a
 * later version that wants payloads names itself in the prologue anyway.
 */
export async function runHandshake(framed: FramedSocket, params: HandshakeParams): Promise<HandshakeResult> {
  const handshake = new XXHandshake({ initiator: params.initiator, staticKeyPair: params.staticKeyPair, prologue: PROLOGUE });
  let timedOut = false;
  const timer = params.clock.setTimeout(() => {
    timedOut = true;
    framed.destroy(new TimeoutError("handshake timed out", "handshake-timeout"));
  }, params.timeoutMs);
  try {
    if (params.initiator) {
      framed.writeFrame(handshake.writeMessage(Buffer.alloc(0)));
      requireEmpty(handshake.readMessage(await framed.nextFrame()), 2);
      const remoteKey = handshake.remoteStaticPublicKey as Buffer;
      if (params.expectedRemoteKey && !remoteKey.equals(Buffer.from(params.expectedRemoteKey))) {
        throw new PeerRejectedError("peer proved a different key than expected", "unexpected-key");
      }
      framed.writeFrame(handshake.writeMessage(Buffer.alloc(0)));
    } else {
      requireEmpty(handshake.readMessage(await framed.nextFrame()), 1);
      framed.writeFrame(handshake.writeMessage(Buffer.alloc(0)));
      requireEmpty(handshake.readMessage(await framed.nextFrame()), 3);
      const remoteKey = handshake.remoteStaticPublicKey as Buffer;
      if (params.isAllowed && !params.isAllowed(remoteKey)) {
        throw new PeerRejectedError("peer key is not an allowed contact", "unknown-peer");
      }
    }
    const { send, receive } = handshake.split();
    return {
      send,
      receive,
      remoteKey: Buffer.from(handshake.remoteStaticPublicKey as Buffer),
      handshakeHash: Buffer.from(handshake.handshakeHash),
    };
  } catch (error) {
    if (timedOut) throw new TimeoutError("handshake timed out", "handshake-timeout");
    if (error instanceof PeerRejectedError || error instanceof TimeoutError) throw error;
    if (error instanceof HandshakeError) throw error;
    throw new HandshakeError(`handshake failed: ${(error as Error).message}`, "handshake-failed", { cause: error });
  } finally {
    timer.cancel();
    handshake.destroy();
  }
}

function requireEmpty(payload: Uint8Array, message: 1 | 2 | 3): void {
  if (payload.length > 0) {
    throw new HandshakeError(`handshake message ${message} carries a ${payload.length}-byte payload; protocol version 1 requires none`, "handshake-payload");
  }
}
