import { Duplex } from "node:stream";

// Node 20 has no stream.duplexPair: this is a small one for channel tests that need no TCP.

export interface DuplexPairOptions {
  /** Bytes one side's readable buffers before the other side's write waits (default 16 KiB, like a socket). */
  highWaterMark?: number;
  /**
   * The byte stream is re-cut into pieces of this many bytes (default 4096), wherever frame
   * boundaries fall, as TCP does: readers must cope with frames split and merged.
   */
  segmentBytes?: number;
  /** Sees (and may replace) every chunk written by side `a` before it is cut and sent to `b`: a man in the middle. */
  tapAtoB?: (chunk: Buffer) => Buffer;
}

/**
 * One end of an in-memory connection. What it writes (merged, like a writev) is cut into
 * segments and pushed into the other end's readable side; when that side is full (its reader
 * paused or slow), the write's callback waits until it reads again, so backpressure reaches
 * the writer as it does over TCP.
 */
export class MemoryDuplex extends Duplex {
  #peer: MemoryDuplex | undefined;
  #tap: ((chunk: Buffer) => Buffer) | undefined;
  #segmentBytes: number;
  /** Segments of the current write not yet taken by the peer, and that write's callback. */
  #outgoing: Buffer[] = [];
  #outgoingDone: ((error?: Error) => void) | undefined;

  constructor(highWaterMark: number, segmentBytes: number) {
    // allowHalfOpen false: once the peer has ended, this end ends too, then closes, like a socket.
    super({ highWaterMark, allowHalfOpen: false });
    this.#segmentBytes = segmentBytes;
  }

  static connect(a: MemoryDuplex, b: MemoryDuplex, tapAtoB?: (chunk: Buffer) => Buffer): void {
    a.#peer = b;
    b.#peer = a;
    a.#tap = tapAtoB;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    if (!this.#peer || this.#peer.destroyed) {
      callback(new Error("the other end is closed"));
      return;
    }
    const merged = Buffer.concat(chunks.map((c) => c.chunk));
    const data = this.#tap ? this.#tap(merged) : merged;
    for (let offset = 0; offset < data.length; offset += this.#segmentBytes) this.#outgoing.push(data.subarray(offset, offset + this.#segmentBytes));
    this.#outgoingDone = callback;
    this.#pump();
  }

  /** The peer wants more: it is this end's writes that feed it. */
  override _read(): void {
    const peer = this.#peer;
    if (peer) peer.#pump();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#peer && !this.#peer.destroyed) this.#peer.push(null);
    callback();
  }

  /** Like a connection reset: the other end closes as well (after reading nothing more). */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.#peer;
    this.#peer = undefined;
    this.#finishWrite(new Error("the connection is closed"));
    if (peer && !peer.destroyed) peer.destroy();
    callback(error);
  }

  #pump(): void {
    const peer = this.#peer;
    if (!peer || peer.destroyed) return this.#finishWrite(new Error("the other end is closed"));
    while (this.#outgoing.length > 0) {
      if (!peer.push(this.#outgoing.shift())) break;
    }
    if (this.#outgoing.length === 0) this.#finishWrite();
  }

  #finishWrite(error?: Error): void {
    this.#outgoing.length = 0;
    const done = this.#outgoingDone;
    this.#outgoingDone = undefined;
    done?.(error);
  }
}

/** Two connected in-memory ends: what `a` writes, `b` reads, and back. */
export function duplexPair(options: DuplexPairOptions = {}): [MemoryDuplex, MemoryDuplex] {
  const highWaterMark = options.highWaterMark ?? 16 * 1024;
  const segmentBytes = options.segmentBytes ?? 4096;
  const a = new MemoryDuplex(highWaterMark, segmentBytes);
  const b = new MemoryDuplex(highWaterMark, segmentBytes);
  MemoryDuplex.connect(a, b, options.tapAtoB);
  return [a, b];
}
