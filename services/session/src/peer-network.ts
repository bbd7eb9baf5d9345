/**
 * What the session needs from the network service, as a domain interface. The gRPC adapter
 * (../network-client.ts) implements it; tests may implement it in memory.
 */
export interface NetworkPeer {
  publicKey: Buffer;
  state: "connected" | "connecting" | "disconnected";
  address: string;
  stats: Record<string, unknown>;
}

export interface PeerNetworkEvents {
  /** The network service is reachable again (or for the first time): configure it. */
  linkUp(): void;
  linkDown(): void;
  peerConnected(publicKey: Buffer): void;
  peerDisconnected(publicKey: Buffer, code: string): void;
  frame(publicKey: Buffer, payload: Buffer): void;
  frameDropped(publicKey: Buffer, code: string): void;
}

export interface PeerNetwork {
  readonly available: boolean;
  setEventHandler(events: PeerNetworkEvents | undefined): void;
  configure(privateKey: Buffer, listen: string, allowed: Buffer[]): Promise<string>;
  unconfigure(): Promise<void>;
  setAllowed(keys: Buffer[]): Promise<void>;
  dial(publicKey: Buffer, addresses: string[]): Promise<void>;
  disconnect(publicKey: Buffer): Promise<void>;
  /** Queues one payload on the Link; false when the link is down (the outbox keeps it). */
  send(publicKey: Buffer, payload: Uint8Array): boolean;
  listPeers(): Promise<NetworkPeer[]>;
  close(): Promise<void>;
}
