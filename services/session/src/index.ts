export * from "./session-node.js";
export * from "./peer-network.js";
export * from "./model.js";
export * from "./contacts/card-codec.js";
