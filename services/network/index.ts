/**
 * The public entry of @jarvis/network. A process runs the service with `@jarvis/network/main`;
 * code that embeds a network node in-process (e.g. a session route test) uses these two:
 *
 *   const node = new NetworkNode({ clock, logger, defaultListen: "127.0.0.1:0" });
 *   router = createNetworkRoutes(node, logger);   // for createRouterTransport or a server
 *
 * Everything else is internal; tests reach it through `@jarvis/network/testing`.
 */
export { NetworkNode } from "./src/network-node.js";
export type { NetworkNodeOptions, NetworkStatus } from "./src/network-node.js";
export { NETWORK_OPEN_METHODS, createNetworkRoutes, type NetworkRouteOptions } from "./routes.js";
export type { LinkEvent } from "./src/link/index.js";
export type { PeerInfo, PeerState } from "./src/peers/peer-manager.js";
export { DEFAULT_FLOW_LIMITS, DEFAULT_TIMEOUTS } from "./src/constants.js";
export type { ChannelTimeouts, FlowLimits } from "./src/constants.js";
