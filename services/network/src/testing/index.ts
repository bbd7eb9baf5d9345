/**
 * @jarvis/network/testing: internals that tests and the bench drive directly (a raw Noise peer,
 * framing, an in-process node harness). Not for production code; no stability promise.
 */
export { PROLOGUE, MAX_HANDSHAKE_FRAME, MAX_PAYLOAD_BYTES } from "../channel/protocol.js";
export * from "../framing/index.js";
export * from "../noise/index.js";
export { NetworkNode } from "../network-node.js";
export type { NetworkNodeOptions } from "../network-node.js";
export type { Link, LinkEvent } from "../link/index.js";
export type { ChannelTimeouts, FlowLimits, HandshakeLimits } from "../constants.js";
export * from "./nodes.js";
export * from "./proxy.js";
export * from "./raw-peer.js";
export * from "./wait.js";
export * from "./duplex-pair.js";
export * from "./channel-pair.js";
export * from "./socket-tracker.js";
