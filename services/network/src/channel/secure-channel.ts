import { Reassembler, splitPayload } from "../framing/chunking.js";
import { decodeControlChunk, encodeControlChunk, isControlChunk, type ControlMessage } from "../framing/control.js";
import { FrameError } from "../framing/frame-error.js";
import { MAX_FRAME_LENGTH } from "../framing/frame-decoder.js";
import { decodePacked, isPacked } from "../framing/packing.js";
import type { CipherState } from "../noise/index.js";
import { PayloadTooLargeError, ProtocolError } from "../errors.js";
import type { FramedSocket } from "./framed-socket.js";
import { MAX_PAYLOAD_BYTES } from "./protocol.js";
import { TransportWriter } from "./transport-writer.js";

const EMPTY_AD = Buffer.alloc(0);

export interface ChannelHooks {
  /** An application payload, passed up untouched: the network never looks inside it. */
  onPayload(payload: Buffer): void;
  /** A control chunk (ping, pong, goodbye, or a type this version does not know). */
  onControl(message: ControlMessage): void;
  onClose(error: Error): void;
}

export type OutgoingControl =
  | { kind: "ping"; nonce: bigint }
  | { kind: "pong"; nonce: bigint }
  | { kind: "goodbye"; reason: string }
  | { kind: "features"; packing: boolean };

/**
 * An established Noise channel: payloads in, payloads out. Each frame is one Noise transport
 * message whose plaintext is a chunk (see framing/chunking and framing/control), or, once the
 * peer has announced it reads them, a packed message of several chunks (framing/packing). Any
 * decrypt or chunk error closes the channel: a tampered, replayed or reordered message can
 * never be skipped over.
 */
export class SecureChannel {
  readonly remoteKey: Buffer;
  readonly outbound: boolean;
  readonly address: string;
  readonly openedAt: number;
  readonly framed: FramedSocket;
  #send: CipherState;
  #receive: CipherState;
  #writer: TransportWriter;
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
    this.#writer = new TransportWriter(params.framed, params.send);
  }

  get closed(): boolean {
    return this.framed.closed;
  }

  /** Bytes sent and not yet written out: chunks still queued for this turn plus the socket's backlog. */
  get unwrittenBytes(): number {
    return this.#writer.queuedBytes + this.framed.unwrittenBytes;
  }

  /** Whether the peer has announced that it reads packed transport messages. */
  get peerReadsPacked(): boolean {
    return this.#writer.packing;
  }

  /** Starts delivering payloads. Called once the manager has accepted the channel. */
  start(hooks: ChannelHooks): void {
    this.#hooks = hooks;
    this.framed.onClose((error) => {
      this.#writer.abandon();
      this.#send.destroy();
      this.#receive.destroy();
      hooks.onClose(error);
    });
    this.framed.setMaxFrameLength(MAX_FRAME_LENGTH);
    this.framed.coalesceWrites();
    // First transport message: what this node reads beyond version 1's plain chunks. A peer that
    // does not know the control type ignores it (§4), and never announces, so it is never sent
    // packed messages. Written at once, so it is always a message of its own.
    this.sendControl({ kind: "features", packing: true });
    this.framed.onFrame((frame) => this.#onFrame(frame));
  }

  /**
   * Encrypts and writes one payload, all its chunks at once (so nothing can interleave).
   * `onWritten` fires once, when its last chunk has been written out or the channel closed
   * first (with the error). Throws PayloadTooLargeError, writing nothing, above the cap.
   */
  send(payload: Uint8Array, onWritten?: (error?: Error) => void): void {
    if (payload.length > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(`payload of ${payload.length} bytes exceeds the cap of ${MAX_PAYLOAD_BYTES}`);
    const chunks = splitPayload(payload);
    chunks.forEach((chunk, index) => {
      this.#writer.enqueue(chunk, index === chunks.length - 1 ? onWritten : undefined);
    });
    this.messagesSent++;
  }

  /** Written at once, behind anything queued: a goodbye must be out before the half-close that follows it. */
  sendControl(message: OutgoingControl): void {
    this.#writer.enqueue(encodeControlChunk(message));
    this.#writer.flush();
  }

  /** Stops reading from the peer (its TCP window then fills and it stops sending). */
  pauseReading(): void {
    this.framed.pauseReading();
  }

  resumeReading(): void {
    this.framed.resumeReading();
  }

  get readingPaused(): boolean {
    return this.framed.readingPaused;
  }

  close(error: Error): void {
    this.framed.destroy(error);
  }

  #onFrame(frame: Buffer): void {
    let chunks: Buffer[];
    try {
      const plaintext = this.#receive.decryptWithAd(EMPTY_AD, frame);
      chunks = isPacked(plaintext) ? decodePacked(plaintext) : [plaintext];
    } catch (error) {
      this.#refuse(error);
      return;
    }
    // Each chunk of a packed message counts as if it had come in a message of its own.
    for (const chunk of chunks) {
      if (this.closed) return;
      this.#onChunk(chunk);
    }
  }

  #onChunk(plaintext: Buffer): void {
    let payload: Buffer | undefined;
    let control: ControlMessage | undefined;
    try {
      if (isControlChunk(plaintext)) {
        // Control chunks sit between payloads, never inside one: a sender writes all chunks of a payload at once.
        if (this.#reassembler.bufferedBytes > 0) throw new FrameError("bad-control", "control chunk inside a payload");
        control = decodeControlChunk(plaintext);
      } else {
        payload = this.#reassembler.push(plaintext);
      }
    } catch (error) {
      this.#refuse(error);
      return;
    }
    if (control?.kind === "features") {
      // The channel's own business: packing is switched on, nothing is passed up.
      if (control.packing) this.#writer.enablePacking();
    } else if (control) {
      this.#hooks?.onControl(control);
    } else if (payload) {
      this.messagesReceived++;
      this.#hooks?.onPayload(payload);
    }
  }

  #refuse(error: unknown): void {
    // A chunk-level refusal keeps its own code (bad-chunk, bad-control, reassembly-too-large):
    // the frame decrypted fine, so "decrypt-failed" would send whoever reads the stats astray.
    if (error instanceof FrameError) return this.close(error);
    this.close(new ProtocolError(`channel integrity failure: ${(error as Error).message}`, "decrypt-failed", { cause: error }));
  }
}
