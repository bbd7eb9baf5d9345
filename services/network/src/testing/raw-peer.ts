import type { Socket } from "node:net";
import { PROLOGUE } from "../channel/protocol.js";
import { decodeControlChunk, encodeControlChunk, encodeFrame, FrameDecoder, isControlChunk, Reassembler, splitPayload, type ControlMessage } from "../framing/index.js";
import { XXHandshake, type CipherState, type KeyPair } from "../noise/index.js";
import { closedOf, connectRaw } from "./nodes.js";

const EMPTY = Buffer.alloc(0);

/**
 * A test-side Noise endpoint on a raw socket, built from the noise and framing modules the
 * node uses but driven by the test: it can finish a handshake and then go silent, answer
 * pings only when told, or send anything at all.
 */
export class RawNoisePeer {
  readonly socket: Socket;
  readonly payloads: Buffer[] = [];
  /** Control chunks received (ping, pong, goodbye), in order. */
  readonly controls: ControlMessage[] = [];
  readonly closed: Promise<void>;
  remoteKey: Buffer = EMPTY;
  #decoder = new FrameDecoder();
  #frames: Buffer[] = [];
  #frameWaiter: ((frame: Buffer | undefined) => void) | undefined;
  #send: CipherState | undefined;
  #receive: CipherState | undefined;
  #reassembler = new Reassembler({ maxPayloadBytes: 1024 * 1024 });
  #payloadWaiters = new Set<() => void>();
  error: Error | undefined;
  /** Bytes held back by dial({ piggybackCut }); write them with flushPending(). */
  pendingWrite: Buffer = EMPTY;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    this.closed = closedOf(socket);
    socket.on("error", (error) => (this.error = error));
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("close", () => {
      this.#frameWaiter?.(undefined);
      for (const wake of [...this.#payloadWaiters]) wake();
    });
  }

  /**
   * Connects and runs the initiator side of XX; the caller may check remoteKey afterwards.
   * `piggyback` payloads are encrypted and written in the same write() as "-> s, se", as a
   * fast initiator's first messages may well arrive: in one TCP segment with it.
   * `piggybackCut` keeps that many bytes of the piggybacked frames back, for a second write().
   */
  static async dial(
    address: string,
    keys: KeyPair,
    options: { piggyback?: Uint8Array[]; piggybackCut?: number; payload1?: Uint8Array; payload3?: Uint8Array } = {},
  ): Promise<RawNoisePeer> {
    const peer = new RawNoisePeer(await connectRaw(address));
    const handshake = new XXHandshake({ initiator: true, staticKeyPair: keys, prologue: PROLOGUE });
    try {
      peer.writeFrame(handshake.writeMessage(options.payload1 ?? EMPTY));
      handshake.readMessage(await peer.nextFrame());
      peer.remoteKey = handshake.remoteStaticPublicKey as Buffer;
      const message3 = encodeFrame(handshake.writeMessage(options.payload3 ?? EMPTY));
      peer.#startTransport(handshake);
      const extra = Buffer.concat((options.piggyback ?? []).map((payload) => peer.encryptPayload(payload)));
      const cut = Math.min(options.piggybackCut ?? 0, extra.length);
      peer.socket.write(Buffer.concat([message3, extra.subarray(0, extra.length - cut)]));
      if (cut > 0) peer.pendingWrite = extra.subarray(extra.length - cut);
      return peer;
    } catch (error) {
      peer.socket.destroy();
      throw error;
    } finally {
      handshake.destroy();
    }
  }

  /** Runs the responder side of XX on an accepted socket. */
  static async accept(socket: Socket, keys: KeyPair, options: { payload2?: Uint8Array } = {}): Promise<RawNoisePeer> {
    const peer = new RawNoisePeer(socket);
    const handshake = new XXHandshake({ initiator: false, staticKeyPair: keys, prologue: PROLOGUE });
    try {
      handshake.readMessage(await peer.nextFrame());
      peer.writeFrame(handshake.writeMessage(options.payload2 ?? EMPTY));
      handshake.readMessage(await peer.nextFrame());
      peer.remoteKey = handshake.remoteStaticPublicKey as Buffer;
      peer.#startTransport(handshake);
      return peer;
    } finally {
      handshake.destroy();
    }
  }

  /** Wraps an accepted socket without any handshake: the test drives the bytes itself. */
  static wrap(socket: Socket): RawNoisePeer {
    return new RawNoisePeer(socket);
  }

  flushPending(): void {
    this.socket.write(this.pendingWrite);
    this.pendingWrite = EMPTY;
  }

  writeFrame(body: Uint8Array): void {
    this.socket.write(encodeFrame(body));
  }

  /** The next raw frame (handshake phase); rejects when the socket closes first. */
  nextFrame(): Promise<Buffer> {
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.socket.destroyed) return Promise.reject(new Error("socket closed"));
    return new Promise((resolve, reject) => {
      this.#frameWaiter = (frame) => {
        this.#frameWaiter = undefined;
        if (frame) resolve(frame);
        else reject(new Error("socket closed"));
      };
    });
  }

  /** Encrypts a payload as the node would (chunked, one Noise message per frame). */
  encryptPayload(payload: Uint8Array): Buffer {
    const send = this.#send;
    if (!send) throw new Error("handshake not complete");
    return Buffer.concat(splitPayload(payload).map((chunk) => encodeFrame(send.encryptWithAd(EMPTY, chunk))));
  }

  /**
   * Encrypts one chunk plaintext exactly as given (flag byte included) into a frame, with the
   * next send nonce: a hostile peer's tool for chunks the node would never write (unknown
   * flags, empty or unterminated chunks) and for replaying or reordering frames.
   */
  encryptChunk(chunkPlaintext: Uint8Array): Buffer {
    const send = this.#send;
    if (!send) throw new Error("handshake not complete");
    return encodeFrame(send.encryptWithAd(EMPTY, chunkPlaintext));
  }

  send(payload: Uint8Array): void {
    this.socket.write(this.encryptPayload(payload));
  }

  /** Sends a control chunk (ping, pong or goodbye) as a node would. */
  sendControl(message: Parameters<typeof encodeControlChunk>[0]): void {
    const send = this.#send;
    if (!send) throw new Error("handshake not complete");
    this.socket.write(encodeFrame(send.encryptWithAd(EMPTY, encodeControlChunk(message))));
  }

  /** Resolves once `count` payloads in total have been received. */
  waitForPayloads(count: number, timeoutMs = 5_000): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.payloads.length >= count) {
          this.#payloadWaiters.delete(check);
          clearTimeout(timer);
          resolve(this.payloads.slice(0, count));
        } else if (this.socket.destroyed) {
          this.#payloadWaiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`socket closed after ${this.payloads.length} of ${count} payloads`));
        }
      };
      const timer = setTimeout(() => {
        this.#payloadWaiters.delete(check);
        reject(new Error(`timed out waiting for ${count} payloads (have ${this.payloads.length})`));
      }, timeoutMs);
      this.#payloadWaiters.add(check);
      check();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  #startTransport(handshake: XXHandshake): void {
    const { send, receive } = handshake.split();
    this.#send = send;
    this.#receive = receive;
    // Transport frames that arrived together with the last handshake message.
    this.#onFrames(this.#frames.splice(0));
  }

  #onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      this.error = error as Error;
      this.socket.destroy();
      return;
    }
    this.#onFrames(frames);
  }

  #onFrames(frames: Buffer[]): void {
    for (const frame of frames) {
      if (this.#receive) {
        try {
          const plaintext = this.#receive.decryptWithAd(EMPTY, frame);
          if (isControlChunk(plaintext)) {
            const control = decodeControlChunk(plaintext);
            // A node's features announcement is the channel's own business; this peer plays a
            // plain version-1 peer that never announces any, so it is never sent packed messages.
            if (control.kind !== "features") this.controls.push(control);
          } else {
            const payload = this.#reassembler.push(plaintext);
            if (payload) this.payloads.push(payload);
          }
        } catch (error) {
          this.error = error as Error;
          this.socket.destroy();
          return;
        }
      } else if (this.#frameWaiter) {
        this.#frameWaiter(frame);
      } else {
        this.#frames.push(frame);
      }
    }
    for (const wake of [...this.#payloadWaiters]) wake();
  }
}

