import { connect, type AddressInfo, type Server, type Socket } from "node:net";
import { silentLogger, type BackoffPolicy, type Clock } from "@jarvis/core";
import { NetworkNode } from "../network-node.js";
import type { PeerInfo } from "../peers/peer-manager.js";
import type { Link, LinkEvent } from "../link/index.js";
import type { ChannelTimeouts, FlowLimits, HandshakeLimits } from "../constants.js";
import { generateKeyPair, type KeyPair } from "../noise/index.js";
import type { Cleanup } from "./wait.js";

// In-process NetworkNodes over real loopback TCP on an injected clock, and raw socket helpers.

/** The Link of a node, recorded: every event in order, and waits for a matching one. */
export class LinkRecorder {
  readonly events: LinkEvent[] = [];
  readonly link: Link;
  #waiters = new Set<() => void>();

  constructor(node: NetworkNode) {
    const link = node.openLink();
    this.link = link;
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
  flowLimits?: Partial<FlowLimits>;
  handshakeLimits?: Partial<HandshakeLimits>;
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
    flowLimits: options.flowLimits,
    handshakeLimits: options.handshakeLimits,
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


/** The node's view of one peer; throws if it has none. */
export function peerOf(node: NetworkNode, key: Uint8Array): PeerInfo {
  const peer = node.listPeers().find((p) => p.publicKey.equals(Buffer.from(key)));
  if (!peer) throw new Error(`no peer ${Buffer.from(key).toString("hex").slice(0, 8)}`);
  return peer;
}

export function isConnected(node: NetworkNode, key: Uint8Array): boolean {
  return node.listPeers().some((p) => p.publicKey.equals(Buffer.from(key)) && p.state === "connected");
}
