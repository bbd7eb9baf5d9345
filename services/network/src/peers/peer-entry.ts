import { uidFromPublicKey } from "@jarvis/core";
import type { SecureChannel } from "../channel/secure-channel.js";
import type { Keepalive } from "./keepalive.js";
import type { ReconnectState } from "./reconnect.js";
import { currentStats, emptyStats, type PeerStatsSnapshot } from "./peer-stats.js";

export type PeerState = "disconnected" | "connecting" | "connected";

/** What the PeerManager knows about one peer, connected or not. */
export interface PeerEntry {
  key: Buffer;
  keyHex: string;
  /** For logs: peers are named by uid, never by key material. */
  uid: string;
  /** Keep a channel to it: redial after a loss until disconnect(). */
  wanted: boolean;
  addresses: string[];
  nextAddress: number;
  channel: SecureChannel | undefined;
  /** Names the active channel on the Link (PeerConnected.channel_id); 0 while there is none. */
  channelId: bigint;
  /** The active channel has received at least one frame: it is a real session, not a refusal. */
  heard: boolean;
  keepalive: Keepalive | undefined;
  dialing: boolean;
  reconnect: ReconnectState;
  /** Our session has too many of this peer's payloads unread: do not read its socket. */
  inboundPaused: boolean;
  lastAddress: string;
  stats: PeerStatsSnapshot;
}

export function newPeerEntry(key: Buffer): PeerEntry {
  return {
    key: Buffer.from(key),
    keyHex: key.toString("hex"),
    uid: uidFromPublicKey(key),
    wanted: false,
    addresses: [],
    nextAddress: 0,
    channel: undefined,
    channelId: 0n,
    heard: false,
    keepalive: undefined,
    dialing: false,
    reconnect: { attempt: 0, timer: undefined },
    inboundPaused: false,
    lastAddress: "",
    stats: emptyStats(),
  };
}

export interface PeerInfo {
  publicKey: Buffer;
  state: PeerState;
  address: string;
  outbound: boolean;
  /** The active channel's id, 0 when not connected. */
  channelId: bigint;
  stats: PeerStatsSnapshot;
}

export function peerInfo(entry: PeerEntry, now: number): PeerInfo {
  const channel = entry.channel;
  return {
    publicKey: entry.key,
    state: channel ? "connected" : entry.dialing ? "connecting" : "disconnected",
    address: channel?.address ?? entry.lastAddress,
    outbound: channel?.outbound ?? false,
    channelId: channel ? entry.channelId : 0n,
    stats: currentStats(entry.stats, channel, now),
  };
}
