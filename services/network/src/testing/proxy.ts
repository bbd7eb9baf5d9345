import { connect, createServer, type Server, type Socket } from "node:net";
import { closeServer, closedOf, listenOn, portOf } from "./nodes.js";
import type { Cleanup } from "./wait.js";

/**
 * Tracks, byte by byte, which frame of a `u16 length ‖ body` stream each byte belongs to, so a
 * proxy can tamper with an exact byte of an exact frame however TCP splits the stream.
 */
export class FrameTracker {
  frameIndex = 0;
  /** Offset inside the current frame, header included. */
  offset = 0;
  #length = -1;
  #high = 0;

  /** Calls visit(frameIndex, offset) for each byte of the chunk, in order. */
  walk(chunk: Buffer, visit: (frameIndex: number, offset: number, index: number) => void): void {
    for (let i = 0; i < chunk.length; i++) {
      visit(this.frameIndex, this.offset, i);
      const byte = chunk[i] as number;
      if (this.offset === 0) this.#high = byte;
      if (this.offset === 1) this.#length = (this.#high << 8) | byte;
      this.offset++;
      if (this.offset >= 2 && this.offset === this.#length + 2) {
        this.frameIndex++;
        this.offset = 0;
        this.#length = -1;
      }
    }
  }
}

export type ChunkTransform = (chunk: Buffer, connection: number) => Buffer;

export interface ProxyOptions {
  /** host:port to forward to. */
  target: string;
  /** Rewrites client → server bytes. */
  upstream?: ChunkTransform;
  /** Rewrites server → client bytes. */
  downstream?: ChunkTransform;
  /** Forward one byte per write, waiting for each write to be flushed, in both directions. */
  byteAtATime?: boolean;
}

interface ProxyConnection {
  up: Buffer[];
  down: Buffer[];
  client: Socket;
  server: Socket;
  closed: Promise<void>;
}

/** A TCP proxy on 127.0.0.1:0 that records every byte in both directions and can tamper with them. */
export class RecordingProxy {
  readonly connections: ProxyConnection[] = [];
  #server: Server;
  #options: ProxyOptions;
  address = "";

  private constructor(options: ProxyOptions) {
    this.#options = options;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(options: ProxyOptions, cleanup?: Cleanup): Promise<RecordingProxy> {
    const proxy = new RecordingProxy(options);
    cleanup?.add(() => proxy.close());
    proxy.address = await listenOn(proxy.#server);
    return proxy;
  }

  /** Every byte seen, both directions, all connections. */
  allBytes(): Buffer {
    return Buffer.concat(this.connections.flatMap((c) => [...c.up, ...c.down]));
  }

  upBytes(connection: number): Buffer {
    return Buffer.concat(this.connections[connection]?.up ?? []);
  }

  async close(): Promise<void> {
    await closeServer(this.#server, this.connections.flatMap((c) => [c.client, c.server]));
    await Promise.all(this.connections.map((c) => c.closed));
  }

  #accept(client: Socket): void {
    const index = this.connections.length;
    client.setNoDelay(true);
    const server = connect({ host: "127.0.0.1", port: portOf(this.#options.target) });
    server.setNoDelay(true);
    const connection: ProxyConnection = {
      up: [],
      down: [],
      client,
      server,
      closed: Promise.all([closedOf(client), closedOf(server)]).then(() => undefined),
    };
    this.connections.push(connection);
    client.pause();
    server.once("connect", () => client.resume());
    this.#pipe(client, server, connection.up, index, this.#options.upstream);
    this.#pipe(server, client, connection.down, index, this.#options.downstream);
  }

  #pipe(from: Socket, to: Socket, record: Buffer[], index: number, transform: ChunkTransform | undefined): void {
    let chain = Promise.resolve();
    const byteAtATime = this.#options.byteAtATime === true;
    from.on("data", (chunk: Buffer) => {
      const out = transform ? transform(chunk, index) : chunk;
      record.push(Buffer.from(out));
      if (!byteAtATime) {
        to.write(out);
        return;
      }
      for (let i = 0; i < out.length; i++) {
        const byte = out.subarray(i, i + 1);
        chain = chain.then(() => writeFlushed(to, byte));
      }
    });
    // Half-closes are passed on once everything before them has been written.
    from.on("end", () => void chain.then(() => to.end()));
    from.on("error", () => to.destroy());
    from.on("close", () => void chain.then(() => to.destroy()));
  }
}

function writeFlushed(socket: Socket, bytes: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.write(bytes, () => resolve()));
}

