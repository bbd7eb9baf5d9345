export * from "./network-node.js";
export * from "./errors.js";
export * from "./peers/peer-manager.js";
export * from "./channel/protocol.js";
