import { setImmediate as nextTick } from "node:timers/promises";
import { publicKeyOf } from "../identity/account-files.js";
import type { FrameOutcome, NetworkPeer, PeerHealth, PeerNetwork, PeerNetworkEvents } from "../peer-network.js";

/**
 * What happens to one frame: delivered (reported written, arrives), dropped (reported not
 * sent, never arrives), lost (reported written, never arrives — a channel that dies later) or
 * unreported (arrives, but no report comes, as from a network that predates the reports).
 */
export type FrameFate = "deliver" | "drop" | "lose" | "unreported";

/**
 * Test double for the network service: nodes registered on one hub see each other as
 * connected once both are configured and allow each other's key. Frames are delivered
 * asynchronously and in order, as over a channel. It stands in for remote nodes only — the
 * session's own store, services and encryption are the real ones.
 */
export class InMemoryHub {
  readonly endpoints = new Map<string, InMemoryNetwork>();

  endpoint(): InMemoryNetwork {
    return new InMemoryNetwork(this);
  }

  /** Delivers a raw frame to `to` as if it came over an authenticated channel from `fromKey`. */
  inject(fromKey: Buffer, to: Buffer, payload: Uint8Array): Promise<void> {
    const target = this.endpoints.get(to.toString("hex"));
    return nextTick().then(() => target?.deliver(fromKey, Buffer.from(payload)));
  }

  refresh(): void {
    for (const a of this.endpoints.values()) {
      for (const b of this.endpoints.values()) if (a !== b) a.updatePeer(b);
      for (const key of a.connected) if (!this.endpoints.has(key)) a.dropPeer(key);
    }
  }
}

export class InMemoryNetwork implements PeerNetwork {
  available = true;
  publicKey: Buffer | undefined;
  allowed = new Set<string>();
  connected = new Set<string>();
  sent: { to: string; payload: Buffer }[] = [];
  /** Decides each outgoing frame's fate; every frame is delivered when unset. */
  fate: ((to: string, payload: Buffer) => FrameFate) | undefined;
  /** While set, send() waits for it, as it would on a full window. */
  gate: Promise<void> | undefined;
  #hub: InMemoryHub;
  #events: PeerNetworkEvents | undefined;
  #connectedAt = new Map<string, number>();
  /** Each (re)connection gets a new channel id, as from the real network. */
  #channelIds = new Map<string, bigint>();
  #lastChannelId = 0n;

  constructor(hub: InMemoryHub) {
    this.#hub = hub;
  }

  setEventHandler(events: PeerNetworkEvents | undefined): void {
    this.#events = events;
    if (events) void nextTick().then(() => events.linkUp());
  }

  async configure(privateKey: Buffer, _listen: string, allowed: Buffer[]): Promise<string> {
    this.publicKey = publicKeyOf(privateKey);
    this.allowed = new Set(allowed.map((k) => k.toString("hex")));
    this.#hub.endpoints.set(this.publicKey.toString("hex"), this);
    this.#hub.refresh();
    return "127.0.0.1:1";
  }

  async unconfigure(): Promise<void> {
    if (this.publicKey) this.#hub.endpoints.delete(this.publicKey.toString("hex"));
    this.publicKey = undefined;
    this.#hub.refresh();
    for (const key of this.connected) this.#events?.peerDisconnected(Buffer.from(key, "hex"), "unconfigured");
    this.connected.clear();
  }

  async setAllowed(keys: Buffer[]): Promise<void> {
    this.allowed = new Set(keys.map((k) => k.toString("hex")));
    this.#hub.refresh();
  }

  async dial(): Promise<void> {}

  async disconnect(): Promise<void> {}

  async send(publicKey: Buffer, payload: Uint8Array, onOutcome?: (outcome: FrameOutcome) => void, channelId = 0n): Promise<void> {
    if (this.gate) await this.gate;
    const to = publicKey.toString("hex");
    const report = (outcome: FrameOutcome) => void nextTick().then(() => onOutcome?.(outcome));
    if (!this.publicKey || !this.connected.has(to)) return report({ sent: false, code: "no-channel" });
    if (channelId !== 0n && channelId !== this.#channelIds.get(to)) return report({ sent: false, code: "stale-channel" });
    const bytes = Buffer.from(payload);
    const fate = this.fate?.(to, bytes) ?? "deliver";
    if (fate === "drop") return report({ sent: false, code: "dropped-by-test" });
    this.sent.push({ to, payload: bytes });
    if (fate === "deliver" || fate === "unreported") void this.#hub.inject(this.publicKey, publicKey, bytes);
    if (fate !== "unreported") report({ sent: true });
  }

  async listPeers(): Promise<NetworkPeer[]> {
    return [...this.connected].map((k) => ({ publicKey: Buffer.from(k, "hex"), state: "connected" as const, address: "127.0.0.1:1", health: this.#health(k) }));
  }

  #health(key: string): PeerHealth {
    const sent = this.sent.filter((f) => f.to === key);
    return {
      connectAttempts: 1,
      connectSuccesses: 1,
      connectFailures: 0,
      bytesSent: sent.reduce((n, f) => n + f.payload.length, 0),
      bytesReceived: 0,
      messagesSent: sent.length,
      messagesReceived: 0,
      connectedSince: this.#connectedAt.get(key) ?? 0,
      connectedDurationMs: 0,
      rttMs: 1,
      lastErrorCode: "",
      lastError: "",
      lastErrorAt: 0,
    };
  }

  async close(): Promise<void> {
    await this.unconfigure();
  }

  async deliver(fromKey: Buffer, payload: Buffer): Promise<void> {
    if (!this.connected.has(fromKey.toString("hex"))) return;
    await this.#events?.frame(fromKey, payload);
  }

  /** Reports an already-connected peer as connected again, as a network does when a duplicate channel replaced the first. */
  reconnected(key: string): void {
    if (this.connected.has(key)) this.#events?.peerConnected(Buffer.from(key, "hex"), this.#newChannel(key));
  }

  #newChannel(key: string): bigint {
    const id = ++this.#lastChannelId;
    this.#channelIds.set(key, id);
    return id;
  }

  dropPeer(key: string): void {
    this.connected.delete(key);
    this.#events?.peerDisconnected(Buffer.from(key, "hex"), "gone");
  }

  updatePeer(other: InMemoryNetwork): void {
    const key = other.publicKey?.toString("hex");
    const self = this.publicKey?.toString("hex");
    if (!key || !self) return;
    const up = this.allowed.has(key) && other.allowed.has(self) && this.#hub.endpoints.has(key);
    if (up && !this.connected.has(key)) {
      this.connected.add(key);
      this.#connectedAt.set(key, Date.now());
      this.#events?.peerConnected(Buffer.from(key, "hex"), this.#newChannel(key));
    } else if (!up && this.connected.has(key)) {
      this.connected.delete(key);
      this.#events?.peerDisconnected(Buffer.from(key, "hex"), "gone");
    }
  }
}
