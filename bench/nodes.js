// Two real nodes in this process: each a SessionApp over its real encrypted store, its own
// NetworkNode with real TCP and Noise between them, and the session's public gRPC API served
// on a Unix socket (connect-node + http2, as `jarvis up` serves it). The session ↔ network
// link uses connect's in-memory router transport, as services/session/network-link.test.ts does.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { profilePaths, silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, createNetworkRoutes } from "@jarvis/network";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { SESSION_CLIENT_TUNING } from "@jarvis/session/client-codecs";
import { createIpcTransport, startServer } from "@jarvis/rpc";
import { SessionApp, createTestProfile, encodeLinkCode, TEST_PASSWORD } from "@jarvis/session/testing";
import { GrpcPeerNetwork } from "../services/session/dist/network-client.js";
import { createSessionRoutes } from "../services/session/dist/routes.js";
import { SESSION_SERVER_TUNING } from "../services/session/dist/server-tuning.js";

export async function startNode(name) {
  const home = mkdtempSync(join(tmpdir(), "jv-bench-"));
  await createTestProfile(home, { name, password: TEST_PASSWORD });
  const network = new NetworkNode({ clock: systemClock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
  const link = new GrpcPeerNetwork(createRouterTransport(createNetworkRoutes(network, silentLogger)), systemClock, silentLogger);
  const app = new SessionApp({ paths: profilePaths(home), clock: systemClock, logger: silentLogger, network: link, listen: "127.0.0.1:0", advertise: "" });
  link.start();
  await app.unlock(TEST_PASSWORD);
  const listen = { kind: "unix", path: join(home, "session.sock") };
  const server = await startServer({ listen, routes: createSessionRoutes(app, silentLogger, () => {}), serviceNames: [SessionService.typeName], ...SESSION_SERVER_TUNING });
  const client = createClient(SessionService, createIpcTransport(listen, SESSION_CLIENT_TUNING));
  while (app.status().listenAddress === "") await new Promise((resolve) => setTimeout(resolve, 10));
  return {
    app,
    client,
    async close() {
      await server.close();
      await app.close();
      await link.close();
      await network.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export function linkNodes(a, b) {
  a.app.addContact({ linkCode: encodeLinkCode(b.app.identity().card) }, "");
  b.app.addContact({ linkCode: encodeLinkCode(a.app.identity().card) }, "");
}

/**
 * Counts message_received events on the node's public Subscribe stream; waits for a total.
 * `onMessage(text)` sees each received message's text as it arrives (latency probes).
 */
export function receivedCounter(node, onMessage = () => {}) {
  const abort = new AbortController();
  let count = 0;
  let waiter;
  void (async () => {
    try {
      for await (const event of node.client.subscribe({ liveOnly: true }, { signal: abort.signal })) {
        if (event.event.case !== "messageReceived") continue;
        count++;
        onMessage(event.event.value.message?.text ?? "");
        if (waiter && count >= waiter.target) waiter.resolve();
      }
    } catch {
      // aborted at close
    }
  })();
  return {
    get count() {
      return count;
    },
    until(target) {
      if (count >= target) return Promise.resolve();
      return new Promise((resolve) => (waiter = { target, resolve }));
    },
    stop: () => abort.abort(),
  };
}
