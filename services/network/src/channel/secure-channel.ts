import { Reassembler, splitPayload } from "../framing/chunking.js";
import { MAX_FRAME_LENGTH } from "../framing/frame-decoder.js";
import type { CipherState } from "../noise/index.js";
import { ProtocolError } from "../errors.js";
import type { FramedSocket } from "./framed-socket.js";
import { MAX_PAYLOAD_BYTES } from "./protocol.js";

const EMPTY_AD = Buffer.alloc(0);

export interface ChannelHooks {
  onPayload(payload: Buffer): void;
  onClose(error: Error): void;
}

/**
 * An established Noise channel: payloads in, payloads out. Each frame is one Noise transport
 * message whose plaintext is a chunk (see framing/chunking). Any decrypt or chunk error closes
 * the channel: a tampered, replayed or reordered message can never be skipped over.
 */
export class SecureChannel {
  readonly remoteKey: Buffer;
  readonly outbound: boolean;
  readonly address: string;
  readonly openedAt: number;
  readonly framed: FramedSocket;
  #send: CipherState;
  #receive: CipherState;
  #reassembler = new Reassembler({ maxPayloadBytes: MAX_PAYLOAD_BYTES });
  #hooks: ChannelHooks | undefined;
  messagesSent = 0;
  messagesReceived = 0;

  constructor(params: {
    framed: FramedSocket;
    send: CipherState;
    receive: CipherState;
    remoteKey: Buffer;
    outbound: boolean;
    address: string;
    openedAt: number;
  }) {
    this.framed = params.framed;
    this.#send = params.send;
    this.#receive = params.receive;
    this.remoteKey = params.remoteKey;
    this.outbound = params.outbound;
    this.address = params.address;
    this.openedAt = params.openedAt;
  }

  get closed(): boolean {
    return this.framed.closed;
  }

  /** Starts delivering payloads. Called once the manager has accepted the channel. */
  start(hooks: ChannelHooks): void {
    this.#hooks = hooks;
    this.framed.onClose((error) => {
      this.#send.destroy();
      this.#receive.destroy();
      hooks.onClose(error);
    });
    this.framed.setMaxFrameLength(MAX_FRAME_LENGTH);
    this.framed.coalesceWrites();
    this.framed.onFrame((frame) => this.#onFrame(frame));
  }

  /**
   * Encrypts and writes one payload. Returns false when the socket buffer is full: the caller
   * should await drained() before sending more (that is how backpressure reaches the Link).
   */
  send(payload: Uint8Array): boolean {
    if (payload.length > MAX_PAYLOAD_BYTES) throw new ProtocolError(`payload of ${payload.length} bytes exceeds the cap`, "payload-too-large");
    let writable = true;
    for (const chunk of splitPayload(payload)) {
      writable = this.framed.writeFrame(this.#send.encryptWithAd(EMPTY_AD, chunk));
    }
    this.messagesSent++;
    return writable;
  }

  drained(): Promise<void> {
    return this.framed.drained();
  }

  close(error: Error): void {
    this.framed.destroy(error);
  }

  #onFrame(frame: Buffer): void {
    let payload: Buffer | undefined;
    try {
      payload = this.#reassembler.push(this.#receive.decryptWithAd(EMPTY_AD, frame));
    } catch (error) {
      this.close(new ProtocolError(`channel integrity failure: ${(error as Error).message}`, "decrypt-failed", { cause: error }));
      return;
    }
    if (payload) {
      this.messagesReceived++;
      this.#hooks?.onPayload(payload);
    }
  }
}
