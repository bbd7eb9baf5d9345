import { encodePacked, MAX_PACKED_PLAINTEXT, PACKED_ENTRY_OVERHEAD } from "../framing/packing.js";
import type { CipherState } from "../noise/index.js";
import { ChannelClosedError } from "../errors.js";
import type { FramedSocket } from "./framed-socket.js";

const EMPTY_AD = Buffer.alloc(0);
const PACKED_FLAG_LENGTH = 1;

type OnWritten = (error?: Error) => void;

interface Queued {
  chunk: Buffer;
  onWritten: OnWritten | undefined;
}

/**
 * Seals chunk plaintexts into Noise transport messages and writes them as frames, in the order
 * they were queued (that order is the nonce order). Chunks queued in one turn of the event loop
 * are written together at the end of the turn; once the peer has said it reads packed messages,
 * consecutive chunks that fit are sealed as ONE packed message. The profile of a busy sender
 * showed the per-message cost was the AEAD setup (a cipher object per seal), its garbage and a
 * frame per message, not the bytes: packing 100-byte payloads puts ~500 under one seal.
 */
export class TransportWriter {
  readonly #framed: FramedSocket;
  readonly #cipher: CipherState;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  /** What the queue would take as one packed plaintext. */
  #packedBytes = PACKED_FLAG_LENGTH;
  #scheduled = false;
  #packing = false;

  constructor(framed: FramedSocket, cipher: CipherState) {
    this.#framed = framed;
    this.#cipher = cipher;
  }

  /** The peer reads packed messages (it sent features with packing). */
  enablePacking(): void {
    this.#packing = true;
  }

  get packing(): boolean {
    return this.#packing;
  }

  /** Chunk bytes queued and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues a chunk; `onWritten` fires once its frame has been written out (or could not be). */
  enqueue(chunk: Buffer, onWritten?: OnWritten): void {
    // A full packed message's worth leaves at once (and no more: the rest of a burst keeps
    // filling the next one): memory stays bounded by one message and the socket is kept busy
    // while a long burst is still being queued.
    const entryBytes = PACKED_ENTRY_OVERHEAD + chunk.length;
    if (this.#queue.length > 0 && this.#packedBytes + entryBytes > MAX_PACKED_PLAINTEXT) this.flush();
    this.#queue.push({ chunk, onWritten });
    this.#queuedBytes += chunk.length;
    this.#packedBytes += entryBytes;
    if (this.#packedBytes >= MAX_PACKED_PLAINTEXT) this.flush();
    else this.#schedule();
  }

  /** Seals and writes everything queued, now. */
  flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#packedBytes = PACKED_FLAG_LENGTH;
    if (this.#framed.closed) return this.#fail(queue);
    let start = 0;
    try {
      while (start < queue.length) {
        const end = this.#groupEnd(queue, start);
        const first = queue[start] as Queued;
        const plaintext = end - start === 1 ? first.chunk : encodePacked(queue.slice(start, end).map((entry) => entry.chunk));
        this.#framed.writeFrame(this.#cipher.encryptWithAd(EMPTY_AD, plaintext), joinCallbacks(queue, start, end));
        start = end;
      }
    } catch (error) {
      // Sealing failed (the nonce space is used up): this flush may run at the end of a turn,
      // with no caller to throw to, so the channel closes with the error, as a failed decrypt
      // would close it on the other side, and nothing of this session is sent any more.
      this.#fail(queue.slice(start));
      this.#framed.destroy(error as Error);
    }
  }

  /** The channel closed: whatever is still queued will never be written. */
  abandon(): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#packedBytes = PACKED_FLAG_LENGTH;
    this.#fail(queue);
  }

  /** Index after the last chunk that fits in one message with queue[start]. */
  #groupEnd(queue: Queued[], start: number): number {
    let end = start + 1;
    if (!this.#packing) return end;
    let size = PACKED_FLAG_LENGTH + PACKED_ENTRY_OVERHEAD + (queue[start] as Queued).chunk.length;
    while (end < queue.length) {
      const next = PACKED_ENTRY_OVERHEAD + (queue[end] as Queued).chunk.length;
      if (size + next > MAX_PACKED_PLAINTEXT) break;
      size += next;
      end++;
    }
    return end;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(() => {
      this.#scheduled = false;
      if (this.#queue.length > 0) this.flush();
    });
  }

  #fail(queue: Queued[]): void {
    if (!queue.some((entry) => entry.onWritten)) return;
    const error = new ChannelClosedError("channel closed before the frame was written");
    // Later, as a socket's write callback would be: never inside the caller's send or close.
    process.nextTick(() => {
      for (const entry of queue) entry.onWritten?.(error);
    });
  }
}

function joinCallbacks(queue: Queued[], start: number, end: number): OnWritten | undefined {
  const callbacks: OnWritten[] = [];
  for (let i = start; i < end; i++) {
    const callback = (queue[i] as Queued).onWritten;
    if (callback) callbacks.push(callback);
  }
  if (callbacks.length <= 1) return callbacks[0];
  return (error) => {
    for (const callback of callbacks) callback(error);
  };
}
