import { timestampMs } from "@bufbuild/protobuf/wkt";
import { PeerState, type PeerStats } from "@jarvis/proto/jarvis/network/v1/peer";
import type { NetworkPeer, PeerHealth } from "./src/peer-network.js";

/** The network's peer states and stats as the session's domain sees them (ListPeers). */
export const STATE: Record<number, NetworkPeer["state"]> = {
  [PeerState.CONNECTED]: "connected",
  [PeerState.CONNECTING]: "connecting",
  [PeerState.DISCONNECTED]: "disconnected",
};

export function toHealth(s: PeerStats): PeerHealth {
  return {
    connectAttempts: Number(s.connectAttempts),
    connectSuccesses: Number(s.connectSuccesses),
    connectFailures: Number(s.connectFailures),
    bytesSent: Number(s.bytesSent),
    bytesReceived: Number(s.bytesReceived),
    messagesSent: Number(s.messagesSent),
    messagesReceived: Number(s.messagesReceived),
    connectedSince: s.connectedSinceTime ? timestampMs(s.connectedSinceTime) : 0,
    connectedDurationMs: Number(s.connectedDurationMs),
    rttMs: s.rttMs,
    lastErrorCode: s.lastErrorCode,
    lastError: s.lastError,
    lastErrorAt: s.lastErrorTime ? timestampMs(s.lastErrorTime) : 0,
  };
}
