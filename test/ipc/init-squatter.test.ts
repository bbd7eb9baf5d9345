import { describe, it } from "vitest";
import { squatInitIpcPort } from "../security/ipc-attacks.js";

/**
 * Issue 15, the local-IPC attack at the CLI: another local process holds the TCP port a person
 * asks `jarvis init --ipc tcp://127.0.0.1:P` to use. The node must not start against it and must
 * say so; the squatter must receive nothing secret. (The network service's port is picked by the
 * service itself, so a squatter cannot know it in advance; the session proves that service
 * before sending it anything: test/ipc/network-squatter.test.ts.) The attack is in
 * test/security/ipc-attacks.ts, shared with the reliability group.
 */
describe("a squatter on the session IPC port chosen with --ipc", () => {
  it("makes init fail clearly, naming the port, with no identity left behind and nothing secret sent", () => squatInitIpcPort());
});
