/**
 * Every default of the network service in one place: timeouts, caps and queue sizes. Protocol
 * constants that both ends must agree on (prologue, frame and payload limits) live in
 * channel/protocol.ts; these here are local policy and may differ between nodes.
 */

export interface ChannelTimeouts {
  connectMs: number;
  handshakeMs: number;
  keepaliveIntervalMs: number;
  idleTimeoutMs: number;
}

/** design §4: connect 10 s, handshake 15 s, ping every 30 s, drop after 90 s of silence. */
export const DEFAULT_TIMEOUTS: Readonly<ChannelTimeouts> = Object.freeze({
  connectMs: 10_000,
  handshakeMs: 15_000,
  keepaliveIntervalMs: 30_000,
  idleTimeoutMs: 90_000,
});

const MiB = 1024 * 1024;

export interface FlowLimits {
  /** Inbound payloads from one peer waiting for the session before that peer's socket is paused. */
  inboundBytesPerPeer: number;
  /** Inbound payloads from all peers waiting for the session before every feeding socket is paused. */
  inboundBytesTotal: number;
  /** Outbound bytes handed to one peer's socket and not yet written before the Link stops reading. */
  outboundBytesPerPeer: number;
  /** The same, summed over all peers. */
  outboundBytesTotal: number;
}

/**
 * Per-peer caps are below the totals so that one flooding (or stalled) peer is paused on its
 * own while the others keep flowing. A paused peer resumes below half its cap (low-water mark),
 * so a socket is not toggled on every payload.
 */
export const DEFAULT_FLOW_LIMITS: Readonly<FlowLimits> = Object.freeze({
  inboundBytesPerPeer: 4 * MiB,
  inboundBytesTotal: 16 * MiB,
  outboundBytesPerPeer: 4 * MiB,
  outboundBytesTotal: 16 * MiB,
});

/** Resume below this fraction of a cap. */
export const LOW_WATER_FRACTION = 0.5;

export interface HandshakeLimits {
  /** Unauthenticated connections in the handshake at once, all sources together. */
  pendingTotal: number;
  /** The same from one source IP address: strangers cannot crowd out contacts (design §4). */
  pendingPerAddress: number;
}

export const DEFAULT_HANDSHAKE_LIMITS: Readonly<HandshakeLimits> = Object.freeze({
  pendingTotal: 256,
  pendingPerAddress: 16,
});

/** How long a goodbye waits for the peer to close its side before the socket is destroyed. */
export const GOODBYE_LINGER_MS = 1_000;



