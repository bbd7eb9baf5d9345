import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, silentLogger } from "@jarvis/core";
import { createIpcTransport, isValidIpcProof, newIpcNonce, startServer, type RunningServer } from "@jarvis/rpc";
import { NetworkService } from "@jarvis/proto/jarvis/network/v1/network_service";
import { NetworkNode } from "./src/network-node.js";
import { NETWORK_OPEN_METHODS, createNetworkRoutes } from "./routes.js";

// The network service's IPC server as main.ts builds it: token on every call but Authenticate.
const TOKEN = "network-ipc-token";
const running: (RunningServer | NetworkNode)[] = [];
afterEach(async () => {
  for (const item of running.splice(0)) await item.close();
});

async function serve(listen: { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string }, token?: string) {
  const node = new NetworkNode({ clock: new FakeClock(), logger: silentLogger, defaultListen: "127.0.0.1:0" });
  const server = await startServer({
    listen,
    routes: createNetworkRoutes(node, silentLogger, { ipcToken: token }),
    serviceNames: [NetworkService.typeName],
    token,
    openMethods: NETWORK_OPEN_METHODS,
  });
  running.push(server, node);
  return server.address;
}

async function codeOf(call: Promise<unknown>): Promise<Code | undefined> {
  return call.then(() => undefined, (e: unknown) => ConnectError.from(e).code);
}

describe("NetworkService IPC authentication", () => {
  it("answers Authenticate without the token with a valid proof, and nothing else", async () => {
    const address = await serve({ kind: "tcp", host: "127.0.0.1", port: 0 }, TOKEN);
    const anonymous = createClient(NetworkService, createIpcTransport(address));
    const clientNonce = newIpcNonce();
    const answer = await anonymous.authenticate({ clientNonce });
    expect(isValidIpcProof(TOKEN, clientNonce, answer.serverNonce, answer.proof)).toBe(true);
    expect(isValidIpcProof("other", clientNonce, answer.serverNonce, answer.proof)).toBe(false);
    // Each answer has a fresh server nonce.
    expect(Buffer.from((await anonymous.authenticate({ clientNonce })).serverNonce).equals(Buffer.from(answer.serverNonce))).toBe(false);

    expect(await codeOf(anonymous.authenticate({ clientNonce: new Uint8Array(5) }))).toBe(Code.InvalidArgument);
    expect(await codeOf(anonymous.getStatus({}))).toBe(Code.Unauthenticated);
    expect(await codeOf(anonymous.configure({ staticPrivateKey: new Uint8Array(32), listenAddress: "127.0.0.1:0" }))).toBe(Code.Unauthenticated);
    expect(await codeOf(anonymous.listPeers({}))).toBe(Code.Unauthenticated);
    const wrong = createClient(NetworkService, createIpcTransport(address, { token: "wrong" }));
    expect(await codeOf(wrong.getStatus({}))).toBe(Code.Unauthenticated);
    const owner = createClient(NetworkService, createIpcTransport(address, { token: TOKEN }));
    expect((await owner.getStatus({})).configured).toBe(false);
  });

  it("over a Unix socket there is no token to prove: Authenticate says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jv-nauth-"));
    try {
      const address = await serve({ kind: "unix", path: join(dir, "network.sock") });
      const client = createClient(NetworkService, createIpcTransport(address));
      expect(await codeOf(client.authenticate({ clientNonce: newIpcNonce() }))).toBe(Code.FailedPrecondition);
      expect((await client.getStatus({})).configured).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
