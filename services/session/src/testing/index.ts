// Test-only entry point ("@jarvis/session/testing"): helpers for in-repo and cross-process tests.
export { createTestProfile, CHEAP_KDF, type TestProfileOptions } from "./test-profile.js";
export { InMemoryHub, InMemoryNetwork } from "./in-memory-network.js";
export { SessionApp } from "../app/session-app.js";
export type { SessionOptions, SessionStatus } from "../app/identity-lifecycle.js";
export { encodeLinkCode, decodeLinkCode } from "../contacts/card-codec.js";
export { TestNodes, link, TEST_PASSWORD, type TestNode } from "./test-nodes.js";
// The account files and the store, for tests that drive a password change in a child process.
export { openAccount, changePassword } from "../identity/account-files.js";
export { Store } from "../store/store.js";
