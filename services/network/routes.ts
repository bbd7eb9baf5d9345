import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  NetworkService,
  type LinkRequest,
  type LinkResponse,
  LinkResponseSchema,
  FrameDroppedSchema,
} from "@jarvis/proto/jarvis/network/v1/network_service";
import { PeerSchema, PeerState, PeerStatsSchema } from "@jarvis/proto/jarvis/network/v1/peer";
import type { Logger } from "@jarvis/core";
import type { NetworkNode, LinkEvent } from "./src/network-node.js";
import type { PeerInfo } from "./src/peers/peer-manager.js";
import { errorCode, errorMessage } from "./src/errors.js";

const STATE: Record<PeerInfo["state"], PeerState> = {
  connected: PeerState.CONNECTED,
  connecting: PeerState.CONNECTING,
  disconnected: PeerState.DISCONNECTED,
};

/** Translates NetworkService RPCs to the NetworkNode domain object; errors map in @jarvis/rpc. */
export function createNetworkRoutes(node: NetworkNode, logger: Logger) {
  return (router: ConnectRouter) =>
    router.service(NetworkService, {
      getStatus() {
        const status = node.status();
        return {
          configured: status.configured,
          listenAddress: status.listenAddress,
          staticPublicKey: status.publicKey ?? new Uint8Array(),
          rejectedPeers: BigInt(status.rejectedPeers),
          protocolErrors: BigInt(status.protocolErrors),
          handshakeTimeouts: BigInt(status.handshakeTimeouts),
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

/**
 * The Link: inbound events flow out while outbound frames are read in. Reading the next
 * outbound frame waits for the previous send, which is how a full peer queue pushes back
 * on the session.
 */
async function* runLink(
  node: NetworkNode,
  requests: AsyncIterable<LinkRequest>,
  ctx: HandlerContext,
  logger: Logger,
): AsyncGenerator<LinkResponse> {
  const link = node.openLink();
  const pump = (async () => {
    for await (const request of requests) {
      if (request.body.case !== "frame") continue;
      const { publicKey, payload } = request.body.value;
      try {
        await node.send(publicKey, payload);
      } catch (error) {
        // The session keeps the message in its outbox and retries on the next connect.
        link.push({ kind: "dropped", publicKey: Buffer.from(publicKey), code: errorCode(error), message: errorMessage(error) });
      }
    }
  })().catch((error: unknown) => logger.debug({ code: errorCode(error) }, "link request stream ended"));
  const onAbort = () => node.closeLink(link);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  pump.finally(() => node.closeLink(link));
  try {
    for await (const event of link) {
      yield linkEventToProto(event);
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    node.closeLink(link);
  }
}

function linkEventToProto(event: LinkEvent): LinkResponse {
  switch (event.kind) {
    case "frame":
      return create(LinkResponseSchema, { body: { case: "frame", value: { publicKey: event.publicKey, payload: event.payload } } });
    case "connected":
      return create(LinkResponseSchema, {
        body: { case: "peerConnected", value: { publicKey: event.publicKey, address: event.address, outbound: event.outbound } },
      });
    case "disconnected":
      return create(LinkResponseSchema, {
        body: { case: "peerDisconnected", value: { publicKey: event.publicKey, errorCode: event.code, error: event.message } },
      });
    case "dropped":
      return create(LinkResponseSchema, {
        body: { case: "frameDropped", value: create(FrameDroppedSchema, { publicKey: event.publicKey, errorCode: event.code, error: event.message }) },
      });
  }
}
