// The libp2p stack the bench measures: TCP + @chainsafe/libp2p-noise (XX) + @chainsafe/libp2p-yamux,
// nothing else (no discovery, no services). Used by libp2p-sink.js and libp2p-sender.js, both
// started with `--import ./with-resolvers.js` (Node 20 lacks Promise.withResolvers).
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { tcp } from "@libp2p/tcp";
import { createLibp2p } from "libp2p";

export const ONE_WAY_PROTOCOL = "/jarvis-bench/one-way/1.0.0";
export const MESSAGE_BYTES = 100;
// The handshake scenarios' protocol: the sink answers each message with one byte.
export const HELLO_PROTOCOL = "/jarvis-bench/hello/1.0.0";

/**
 * A started node; `listen` is a multiaddr such as /ip4/127.0.0.1/tcp/0, or none (dial only).
 * A listener lifts libp2p's inbound limits (by default 5 new connections a second from one
 * host, 10 pending), which would otherwise throttle the handshake scenarios' one dialling host.
 */
export function libp2pNode(listen) {
  return createLibp2p({
    addresses: { listen: listen ? [listen] : [] },
    connectionManager: listen ? { inboundConnectionThreshold: 1_000_000, maxIncomingPendingConnections: 1000, maxConnections: 10_000 } : {},
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  });
}

/** Bytes in a 'message' event's data (a Uint8Array or a Uint8ArrayList). */
export const byteLength = (data) => data.byteLength;
