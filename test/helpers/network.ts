import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, beforeAll } from "vitest";
import { silentLogger, type BackoffPolicy, type Clock } from "@jarvis/core";
import { NetworkNode, type LinkEvent } from "../../services/network/src/network-node.js";
import type { ChannelTimeouts } from "../../services/network/src/channel/protocol.js";
import { PROLOGUE } from "../../services/network/src/channel/protocol.js";
import { encodeFrame, FrameDecoder, Reassembler, splitPayload } from "../../services/network/src/framing/index.js";
import { generateKeyPair, XXHandshake, type CipherState, type KeyPair } from "../../services/network/src/noise/index.js";

/**
 * In-process harness for the peer channel over real loopback TCP: NetworkNodes on an injected
 * clock, a recording/tampering TCP proxy, and a test-side Noise peer on a raw socket. Nothing
 * here sleeps for synchronisation: waits are on events, or bounded polls of observable state.
 */

const EMPTY = Buffer.alloc(0);

/** Collects cleanup actions and runs them in reverse order (in afterEach), never throwing. */
export class Cleanup {
  #actions: (() => unknown)[] = [];

  add(action: () => unknown): void {
    this.#actions.push(action);
  }

  async run(): Promise<void> {
    for (const action of this.#actions.splice(0).reverse()) {
      try {
        await action();
      } catch {
        // cleanup of something already gone
      }
    }
  }
}

/**
 * Runs the cleanup after each test of the file, then checks that the test left no TCP socket
 * behind (counted with process.getActiveResourcesInfo against the count before the file's
 * first test; closed sockets are released a loop iteration or two after their close events).
 */
export function cleanupAfterEach(cleanup: Cleanup): void {
  const tcpSockets = () => liveHandles().TCPSocketWrap ?? 0;
  let baseline = 0;
  beforeAll(() => {
    baseline = tcpSockets();
  });
  afterEach(async () => {
    await cleanup.run();
    await until(() => tcpSockets() === baseline, "every socket of the test to be released");
  });
}

/** Polls observable state until it holds; bounded. Used where no event announces the change. */
export async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Lets pending I/O callbacks and microtasks run (one turn of the event loop). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves with a value or rejects with `what` after timeoutMs. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export function hex(key: Uint8Array): string {
  return Buffer.from(key).toString("hex");
}

/** The Link of a node, recorded: every event in order, and waits for a matching one. */
export class LinkRecorder {
  readonly events: LinkEvent[] = [];
  #waiters = new Set<() => void>();

  constructor(node: NetworkNode) {
    const link = node.openLink();
    void (async () => {
      for await (const event of link) {
        this.events.push(event);
        for (const wake of [...this.#waiters]) wake();
      }
    })();
  }

  frames(from?: Uint8Array): Buffer[] {
    return this.events
      .filter((e): e is Extract<LinkEvent, { kind: "frame" }> => e.kind === "frame" && (!from || e.publicKey.equals(Buffer.from(from))))
      .map((e) => e.payload);
  }

  count(kind: LinkEvent["kind"]): number {
    return this.events.filter((e) => e.kind === kind).length;
  }

  /** Resolves with the first event at index ≥ from that matches. */
  waitFor(predicate: (event: LinkEvent) => boolean, what: string, from = 0, timeoutMs = 5_000): Promise<LinkEvent> {
    const find = () => this.events.slice(from).find(predicate);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const wake = () => {
        const event = find();
        if (!event) return;
        this.#waiters.delete(wake);
        clearTimeout(timer);
        resolve(event);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.events.map((e) => e.kind))}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}

export interface TestNodeHandle {
  node: NetworkNode;
  keys: KeyPair;
  publicKey: Buffer;
  /** The bound listener, host:port on 127.0.0.1. */
  address: string;
  port: number;
  link: LinkRecorder;
}

export interface StartNodeOptions {
  clock: Clock;
  keys?: KeyPair;
  listen?: string;
  allowed?: Uint8Array[];
  timeouts?: Partial<ChannelTimeouts>;
  backoff?: BackoffPolicy;
  random?: () => number;
  cleanup?: Cleanup;
}

/** A configured NetworkNode listening on 127.0.0.1 (port 0 unless told), with its Link recorded. */
export async function startNode(options: StartNodeOptions): Promise<TestNodeHandle> {
  const keys = options.keys ?? generateKeyPair();
  const node = new NetworkNode({
    clock: options.clock,
    logger: silentLogger,
    defaultListen: "127.0.0.1:0",
    timeouts: options.timeouts,
    backoff: options.backoff,
    random: options.random,
  });
  options.cleanup?.add(() => node.close());
  const { listenAddress } = await node.configure({
    privateKey: Buffer.from(keys.privateKey),
    listen: options.listen ?? "127.0.0.1:0",
    allowed: options.allowed ?? [],
  });
  const link = new LinkRecorder(node);
  return { node, keys, publicKey: Buffer.from(keys.publicKey), address: listenAddress, port: portOf(listenAddress), link };
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

export function listenOn(server: Server, port = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** Closes a server and destroys the sockets it accepted (tracked by the caller). */
export function closeServer(server: Server, sockets: Iterable<Socket> = []): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

export function connectRaw(address: string): Promise<Socket> {
  const port = portOf(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      // A peer that resets the connection is an expected outcome here, not a crash.
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}

/** Resolves when the socket has closed (at once if it already has). */
export function closedOf(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

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

/**
 * A test-side Noise endpoint on a raw socket, built from the noise and framing modules the
 * node uses but driven by the test: it can finish a handshake and then go silent, answer
 * pings only when told, or send anything at all.
 */
export class RawNoisePeer {
  readonly socket: Socket;
  readonly payloads: Buffer[] = [];
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
  static async dial(address: string, keys: KeyPair, options: { piggyback?: Uint8Array[]; piggybackCut?: number } = {}): Promise<RawNoisePeer> {
    const peer = new RawNoisePeer(await connectRaw(address));
    const handshake = new XXHandshake({ initiator: true, staticKeyPair: keys, prologue: PROLOGUE });
    try {
      peer.writeFrame(handshake.writeMessage(EMPTY));
      handshake.readMessage(await peer.nextFrame());
      peer.remoteKey = handshake.remoteStaticPublicKey as Buffer;
      const message3 = encodeFrame(handshake.writeMessage(EMPTY));
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
  static async accept(socket: Socket, keys: KeyPair): Promise<RawNoisePeer> {
    const peer = new RawNoisePeer(socket);
    const handshake = new XXHandshake({ initiator: false, staticKeyPair: keys, prologue: PROLOGUE });
    try {
      handshake.readMessage(await peer.nextFrame());
      peer.writeFrame(handshake.writeMessage(EMPTY));
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

  send(payload: Uint8Array): void {
    this.socket.write(this.encryptPayload(payload));
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
          const payload = this.#reassembler.push(this.#receive.decryptWithAd(EMPTY, frame));
          if (payload) this.payloads.push(payload);
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

/** A deterministic PRNG (mulberry32) so random abuse can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resources that keep a process alive and that a closed node must not leave behind. */
export function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) {
    if (name === "TCPSocketWrap" || name === "TCPServerWrap" || name === "Timeout") counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * liveHandles() once it equals `expected`, or whatever it is after timeoutMs. Node frees a
 * closed handle a loop iteration or two after its close callback, so this polls briefly.
 */
export async function handlesSettledTo(expected: Record<string, number>, timeoutMs = 2_000): Promise<Record<string, number>> {
  const same = () => JSON.stringify(sorted(liveHandles())) === JSON.stringify(sorted(expected));
  await until(same, "handles to be released", timeoutMs).catch(() => undefined);
  return liveHandles();
}

function sorted(record: Record<string, number>): [string, number][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
