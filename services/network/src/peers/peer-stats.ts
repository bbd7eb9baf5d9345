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
