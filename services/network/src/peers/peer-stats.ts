import type { SecureChannel } from "../channel/secure-channel.js";
import { errorCode, errorMessage } from "../errors.js";

/** Health counters kept per peer for the life of the network process (design §4). */
export interface PeerStatsSnapshot {
  connectAttempts: number;
  connectSuccesses: number;
  connectFailures: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  connectedSince: number | undefined;
  connectedDurationMs: number;
  rttMs: number;
  lastErrorCode: string;
  lastError: string;
  lastErrorTime: number | undefined;
}

export function emptyStats(): PeerStatsSnapshot {
  return {
    connectAttempts: 0,
    connectSuccesses: 0,
    connectFailures: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    connectedSince: undefined,
    connectedDurationMs: 0,
    rttMs: 0,
    lastErrorCode: "",
    lastError: "",
    lastErrorTime: undefined,
  };
}

/** Adds a channel's own counters (and its connected time up to `now`) to the peer's totals. */
export function addChannelTotals(stats: PeerStatsSnapshot, channel: SecureChannel, now: number): void {
  stats.bytesSent += channel.framed.bytesSent;
  stats.bytesReceived += channel.framed.bytesReceived;
  stats.messagesSent += channel.messagesSent;
  stats.messagesReceived += channel.messagesReceived;
  if (stats.connectedSince !== undefined) stats.connectedDurationMs += now - stats.connectedSince;
}

/** The peer's totals as they stand now, the active channel included. */
export function currentStats(stats: PeerStatsSnapshot, channel: SecureChannel | undefined, now: number): PeerStatsSnapshot {
  const snapshot = { ...stats };
  if (channel) addChannelTotals(snapshot, channel, now);
  return snapshot;
}

export function recordError(stats: PeerStatsSnapshot, error: unknown, now: number): void {
  stats.lastErrorCode = errorCode(error);
  stats.lastError = errorMessage(error);
  stats.lastErrorTime = now;
}

/** Node-wide counters of refused connections (GetStatus). */
export interface ManagerCounters {
  rejectedPeers: number;
  protocolErrors: number;
  handshakeTimeouts: number;
}

/** Counts a failed handshake or dial under the node-wide counter its code belongs to. */
export function countFailure(counters: ManagerCounters, error: unknown): void {
  const code = errorCode(error);
  if (code === "unknown-peer") counters.rejectedPeers++;
  else if (code === "handshake-timeout") counters.handshakeTimeouts++;
  else if (code === "handshake-failed" || code === "handshake-payload" || code === "frame-error") counters.protocolErrors++;
}
