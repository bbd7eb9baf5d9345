/**
 * What the session needs from the network service, as a domain interface. The gRPC adapter
 * (../network-client.ts) implements it; tests may implement it in memory.
 */

/** Health counters of one peer, as the network keeps them (plain numbers, no wire types). */
export interface PeerHealth {
  connectAttempts: number;
  connectSuccesses: number;
  connectFailures: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  /** Epoch ms; 0 while not connected. */
  connectedSince: number;
  connectedDurationMs: number;
  rttMs: number;
  lastErrorCode: string;
  lastError: string;
  /** Epoch ms; 0 when there was no error. */
  lastErrorAt: number;
}

export interface NetworkPeer {
  publicKey: Buffer;
  state: "connected" | "connecting" | "disconnected";
  address: string;
  health: PeerHealth | undefined;
}

/** What became of one frame: written to the peer's channel, or not sent (code says why). */
export type FrameOutcome = { sent: true } | { sent: false; code: string };

export interface PeerNetworkEvents {
  /** The network service is reachable again (or for the first time): configure it. */
  linkUp(): void;
  linkDown(): void;
  /**
   * A channel to the peer is up. `channelId` names it (0 when the network does not say); frames
   * sent with it are never written on a later channel (see PeerNetwork.send).
   */
  peerConnected(publicKey: Buffer, channelId: bigint): void;
  peerDisconnected(publicKey: Buffer, code: string): void;
  /**
   * One authenticated frame. A returned promise means "I am behind": the caller stops reading
   * until it settles, so back-pressure reaches the peer sockets instead of our memory.
   */
  frame(publicKey: Buffer, payload: Buffer): void | Promise<void>;
}

export interface PeerNetwork {
  readonly available: boolean;
  setEventHandler(events: PeerNetworkEvents | undefined): void;
  configure(privateKey: Buffer, listen: string, allowed: Buffer[]): Promise<string>;
  unconfigure(): Promise<void>;
  setAllowed(keys: Buffer[]): Promise<void>;
  dial(publicKey: Buffer, addresses: string[]): Promise<void>;
  disconnect(publicKey: Buffer): Promise<void>;
  /**
   * Hands one payload to the peer's channel. Returns at once (nothing to wait for) when the
   * frame is on its way, or a promise that resolves once it is — after waiting while this
   * peer's window of unanswered bytes is full, so one slow peer only slows its own senders. Frames to one peer go out in call order. `onOutcome` is called exactly
   * once, later: sent (written to the channel) or dropped (link down, no channel, too large).
   * With a `channelId` (from peerConnected) the frame is dropped (`stale-channel`) rather than
   * written on a newer channel, where it would overtake what is resent there in order.
   */
  send(publicKey: Buffer, payload: Uint8Array, onOutcome?: (outcome: FrameOutcome) => void, channelId?: bigint): void | Promise<void>;
  listPeers(): Promise<NetworkPeer[]>;
  close(): Promise<void>;
}
