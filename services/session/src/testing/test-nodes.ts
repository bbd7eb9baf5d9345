import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { profilePaths, silentLogger, systemClock, type Clock, type Logger } from "@jarvis/core";
import { SessionApp } from "../app/session-app.js";
import { encodeLinkCode } from "../contacts/card-codec.js";
import { InMemoryHub, type InMemoryNetwork } from "./in-memory-network.js";
import { createTestProfile } from "./test-profile.js";

export const TEST_PASSWORD = "a good long password";

export interface TestNode {
  app: SessionApp;
  network: InMemoryNetwork;
  home: string;
}

/**
 * Session apps on one in-memory hub, each with a real encrypted store in its own temp dir
 * (cheap KDF). cleanup() closes every app and removes every dir it created.
 */
export class TestNodes {
  readonly hub = new InMemoryHub();
  #nodes: TestNode[] = [];
  #homes: string[] = [];

  node(options: { clock?: Clock; home?: string; presenceSettleMs?: number; logger?: Logger } = {}): TestNode {
    const home = options.home ?? mkdtempSync(join(tmpdir(), "jv-sess-"));
    if (!this.#homes.includes(home)) this.#homes.push(home);
    const network = this.hub.endpoint();
    const app = new SessionApp({
      paths: profilePaths(home),
      clock: options.clock ?? systemClock,
      logger: options.logger ?? silentLogger,
      network,
      listen: "127.0.0.1:0",
      advertise: "",
      presenceSettleMs: options.presenceSettleMs ?? 0,
    });
    const node = { app, network, home };
    this.#nodes.push(node);
    return node;
  }

  /** A node with an unlocked identity of that name. */
  async person(name: string, options: { clock?: Clock; presenceSettleMs?: number; logger?: Logger } = {}): Promise<TestNode> {
    const node = this.node(options);
    await createTestProfile(node.home, { name, password: TEST_PASSWORD });
    await node.app.unlock(TEST_PASSWORD);
    return node;
  }

  async people(names: string[]): Promise<TestNode[]> {
    const list: TestNode[] = [];
    for (const name of names) list.push(await this.person(name));
    return list;
  }

  async cleanup(): Promise<void> {
    for (const node of this.#nodes.splice(0)) await node.app.close();
    for (const home of this.#homes.splice(0)) rmSync(home, { recursive: true, force: true });
  }
}

/** Makes two unlocked nodes each other's contacts (as by exchanging link codes). */
export function link(a: SessionApp, b: SessionApp): void {
  a.addContact({ linkCode: encodeLinkCode(b.identity().card) }, "");
  b.addContact({ linkCode: encodeLinkCode(a.identity().card) }, "");
}
