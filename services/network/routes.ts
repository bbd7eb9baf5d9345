import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { NetworkService } from "@jarvis/proto/jarvis/network/v1/network_service";
import { PeerSchema, PeerState, PeerStatsSchema } from "@jarvis/proto/jarvis/network/v1/peer";
import { FailedPreconditionError, type Logger } from "@jarvis/core";
import { ipcProof, newIpcNonce } from "@jarvis/rpc";
import type { NetworkNode } from "./src/network-node.js";
import type { PeerInfo } from "./src/peers/peer-manager.js";
import { runLink } from "./link-route.js";

const STATE: Record<PeerInfo["state"], PeerState> = {
  connected: PeerState.CONNECTED,
  connecting: PeerState.CONNECTING,
  disconnected: PeerState.DISCONNECTED,
};

/** The one NetworkService call answered without the bearer token (see Authenticate in the proto). */
export const NETWORK_OPEN_METHODS = [`${NetworkService.typeName}/Authenticate`] as const;

export interface NetworkRouteOptions {
  /** TCP IPC: the profile's token, which Authenticate proves we know. Unix sockets have none. */
  ipcToken?: string;
}

/** Translates NetworkService RPCs to the NetworkNode domain object; errors map in @jarvis/rpc. */
export function createNetworkRoutes(node: NetworkNode, logger: Logger, options: NetworkRouteOptions = {}) {
  return (router: ConnectRouter) =>
    router.service(NetworkService, {
      authenticate(req) {
        // Over a Unix socket the 0700 run directory is the proof; there is no token to prove.
        if (!options.ipcToken) throw new FailedPreconditionError("this network service has no IPC token (Unix socket mode)", "no-ipc-token");
        const serverNonce = newIpcNonce();
        return { serverNonce, proof: ipcProof(options.ipcToken, req.clientNonce, serverNonce) };
      },
      getStatus() {
        const status = node.status();
        return {
          configured: status.configured,
          listenAddress: status.listenAddress,
          staticPublicKey: status.publicKey ?? new Uint8Array(),
          rejectedPeers: BigInt(status.rejectedPeers),
          protocolErrors: BigInt(status.protocolErrors),
          handshakeTimeouts: BigInt(status.handshakeTimeouts),
          linkFrameBatches: true,
        };
      },
      async configure(req) {
        const result = await node.configure({ privateKey: req.staticPrivateKey, listen: req.listenAddress, allowed: req.allowedPeerKeys });
        req.staticPrivateKey.fill(0);
        return { listenAddress: result.listenAddress, staticPublicKey: result.publicKey };
      },
      setAllowedPeers(req) {
        node.setAllowed(req.publicKeys);
        return {};
      },
      async unconfigure() {
        await node.unconfigure();
        return {};
      },
      dial(req) {
        node.dial(req.publicKey, req.addresses);
        return {};
      },
      disconnect(req) {
        node.disconnect(req.publicKey);
        return {};
      },
      listPeers() {
        return { peers: node.listPeers().map(peerToProto) };
      },
      link(requests, ctx) {
        return runLink(node, requests, ctx, logger);
      },
    });
}

export function peerToProto(peer: PeerInfo) {
  const s = peer.stats;
  return create(PeerSchema, {
    publicKey: peer.publicKey,
    state: STATE[peer.state],
    address: peer.address,
    outbound: peer.outbound,
    stats: create(PeerStatsSchema, {
      connectAttempts: BigInt(s.connectAttempts),
      connectSuccesses: BigInt(s.connectSuccesses),
      connectFailures: BigInt(s.connectFailures),
      bytesSent: BigInt(s.bytesSent),
      bytesReceived: BigInt(s.bytesReceived),
      messagesSent: BigInt(s.messagesSent),
      messagesReceived: BigInt(s.messagesReceived),
      connectedSinceTime: s.connectedSince === undefined ? undefined : timestampFromMs(s.connectedSince),
      connectedDurationMs: BigInt(s.connectedDurationMs),
      rttMs: s.rttMs,
      lastErrorCode: s.lastErrorCode,
      lastError: s.lastError,
      lastErrorTime: s.lastErrorTime === undefined ? undefined : timestampFromMs(s.lastErrorTime),
    }),
  });
}
