export * from "./address.js";
export * from "./errors.js";
export * from "./interceptors.js";
export * from "./health.js";
export * from "./server.js";
export * from "./client.js";
export * from "./service-logger.js";
export * from "./service-runtime.js";
