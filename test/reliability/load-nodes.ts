import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRouterTransport } from "@connectrpc/connect";
import { profilePaths, silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, createNetworkRoutes } from "@jarvis/network";
import { SessionApp, createTestProfile, encodeLinkCode, TEST_PASSWORD } from "@jarvis/session/testing";
import { GrpcPeerNetwork } from "../../services/session/dist/network-client.js";
import { eventually } from "../helpers/cli.js";

/**
 * A whole node in this process, as services/session/network-link.test.ts builds one: the
 * session app over its real encrypted store (cheap-KDF profile), its own NetworkNode with a
 * real TCP listener on loopback and real Noise channels, and the session's real network client
 * speaking the real gRPC contract — connect's in-memory router transport stands in for the
 * Unix socket between the two processes only. Many of these make a load test of 50 nodes
 * affordable on two cores, where 150 processes would not be.
 */
export class LoadNode {
  readonly name: string;
  readonly home: string;
  readonly network: NetworkNode;
  readonly app: SessionApp;
  readonly uid: string;
  /** Incoming messages seen on the live event stream, by sender uid, in arrival order. */
  readonly received = new Map<string, string[]>();
  #client: GrpcPeerNetwork;
  #events = new AbortController();
  #reading: Promise<void> | undefined;
  #receivedCount = 0;

  private constructor(name: string, home: string, network: NetworkNode, client: GrpcPeerNetwork, app: SessionApp) {
    this.name = name;
    this.home = home;
    this.network = network;
    this.#client = client;
    this.app = app;
    this.uid = app.identity().identity.uid;
  }

  static async start(name: string): Promise<LoadNode> {
    const home = mkdtempSync(join(tmpdir(), "jv-load-"));
    await createTestProfile(home, { name, password: TEST_PASSWORD });
    const network = new NetworkNode({ clock: systemClock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
    const client = new GrpcPeerNetwork(createRouterTransport(createNetworkRoutes(network, silentLogger)), systemClock, silentLogger);
    const app = new SessionApp({ paths: profilePaths(home), clock: systemClock, logger: silentLogger, network: client, listen: "127.0.0.1:0", advertise: "" });
    client.start();
    await app.unlock(TEST_PASSWORD);
    const node = new LoadNode(name, home, network, client, app);
    node.#readEvents();
    // A card handed out before the listener is bound would carry no address to dial.
    await eventually(async () => (app.status().listenAddress !== "" ? true : undefined), 60_000, `${name} to listen`);
    return node;
  }

  get receivedCount(): number {
    return this.#receivedCount;
  }

  connectedPeers(): number {
    return this.network.listPeers().filter((p) => p.state === "connected").length;
  }

  async close(): Promise<void> {
    this.#events.abort();
    await this.#reading;
    await this.app.close();
    await this.#client.close();
    await this.network.close();
    rmSync(this.home, { recursive: true, force: true });
  }

  /** Follows the node's own event log, as a client would: what arrived, from whom, in which order. */
  #readEvents(): void {
    this.#reading = (async () => {
      try {
        for await (const stored of this.app.subscribe(0, true, this.#events.signal)) {
          if (stored.event.type !== "message_received") continue;
          const { senderUid, text } = stored.event.message;
          const list = this.received.get(senderUid) ?? [];
          list.push(text);
          this.received.set(senderUid, list);
          this.#receivedCount++;
        }
      } catch {
        // the store was locked at close
      }
    })();
  }
}

/** Makes two nodes each other's contacts, as exchanging link codes does. */
export function linkNodes(a: LoadNode, b: LoadNode): void {
  a.app.addContact({ linkCode: encodeLinkCode(b.app.identity().card) }, "");
  b.app.addContact({ linkCode: encodeLinkCode(a.app.identity().card) }, "");
}
