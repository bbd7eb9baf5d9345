import { describe, it } from "vitest";
import { squatNetworkIpcPort } from "../security/ipc-attacks.js";

/**
 * Issue 15, "a local process binds the network IPC port first": a real session process is
 * pointed (TCP IPC) at a port another local process holds. The squatter must learn neither the
 * bearer token nor the static private key, and the session must report the network as
 * unavailable, keep retrying, and link once the real service (one that knows the token) answers.
 * The attack is in test/security/ipc-attacks.ts, shared with the reliability group.
 */
describe("a squatter on the network IPC port", () => {
  it("receives neither the token nor the key; the session waits for a server that proves itself", () => squatNetworkIpcPort());
});
