import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeLinkCode } from "@jarvis/session/testing";
import { parseHostPort } from "@jarvis/core";
import { eventually } from "../helpers/cli.js";
import { BridgedHosts, namespacesUnavailable } from "./netns/namespaces.js";
import { NamespacedNode } from "./netns/ns-node.js";

interface Entry {
  id: string;
  text: string;
  state: string;
  outgoing: boolean;
}

interface Peer {
  uid: string;
  name: string;
  state: string;
  address: string;
}

const LOOPBACK = new Set(["127.0.0.1", "::1"]);

/**
 * The multi-host case (issue 16): three nodes, each in its own network namespace on a bridge,
 * reachable only at their namespace addresses, linked by the link codes `jarvis link` prints
 * there, exchanging a message each way between each pair. Needs root and netns support; where
 * that is missing the test is skipped and the title and a console line say why.
 */
const unavailable = namespacesUnavailable();
if (unavailable) console.warn(`netns test skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`three nodes on three hosts (network namespaces)${unavailable ? ` — skipped: ${unavailable}` : ""}`, () => {
  const bridge = new BridgedHosts(3);
  const names = ["netns-alpha", "netns-bravo", "netns-charlie"];
  let nodes: NamespacedNode[] = [];

  beforeAll(async () => {
    await bridge.create();
    nodes = names.map((name, i) => new NamespacedNode(name, bridge.hosts[i]!));
    await Promise.all(nodes.map((node) => node.start()));
  }, 180_000);

  afterAll(async () => {
    // Everything is torn down even when a step above failed; then say what could not be.
    const leftovers = (await Promise.all(nodes.map((node) => node.destroy()))).flat();
    const errors = await bridge.destroy();
    expect(leftovers, "processes still running after down").toEqual([]);
    expect(errors, "namespaces that could not be deleted").toEqual([]);
  }, 120_000);

  it("each link code carries the node's namespace address first and nothing but loopback after it", async () => {
    for (const node of nodes) {
      const { addresses } = decodeLinkCode(await node.linkCode());
      const hosts = addresses.map((a) => parseHostPort(a).host);
      expect(hosts[0], `${node.name}'s first card address`).toBe(node.host.address);
      expect(hosts.slice(1).every((h) => LOOPBACK.has(h)), `${node.name}'s card: ${addresses.join(", ")}`).toBe(true);
      // Every address on the card is for the one port the node listens on.
      expect(new Set(addresses.map((a) => parseHostPort(a).port)).size).toBe(1);
    }
  });

  it("linked by those codes, every pair connects over the bridge and delivers a message each way exactly once", async () => {
    const codes = await Promise.all(nodes.map((node) => node.linkCode()));
    for (const [i, node] of nodes.entries()) {
      for (const [j, code] of codes.entries()) if (i !== j) await node.ok(["contact", "add", code]);
    }

    // Each node sees both others connected, at their namespace addresses (not loopback: in
    // its own namespace a peer's 127.0.0.1 is not the peer).
    const addressOf = new Map(nodes.map((n) => [n.name, n.host.address]));
    await Promise.all(
      nodes.map(async (node) => {
        const peers = await eventually(async () => {
          const status = await node.json<{ peers: Peer[] }>(["status"]);
          const green = status.peers.filter((p) => p.state === "green");
          return green.length === 2 ? green : undefined;
        }, 60_000, `${node.name} to see two peers connected`);
        for (const peer of peers) expect(parseHostPort(peer.address).host, `${node.name}'s channel to ${peer.name}`).toBe(addressOf.get(peer.name));
      }),
    );

    const pairs = nodes.flatMap((from) => nodes.filter((to) => to !== from).map((to) => ({ from, to, text: `from ${from.name} to ${to.name} across the bridge` })));
    expect(pairs).toHaveLength(6);
    for (const { from, to, text } of pairs) await from.ok(["send", to.name, text]);

    // The six deliveries are awaited together: each check spawns a CLI, and serially that adds up.
    await Promise.all(
      pairs.map(async ({ from, to, text }) => {
        const incoming = await eventually(async () => {
          const history = await to.json<Entry[]>(["history", from.name]);
          const received = history.filter((m) => !m.outgoing);
          return received.some((m) => m.text === text) ? received : undefined;
        }, 60_000, `${to.name} to receive "${text}"`);
        // Exactly once: one message from this sender, and it is this one.
        expect(incoming.map((m) => m.text), `${to.name}'s messages from ${from.name}`).toEqual([text]);

        await eventually(async () => {
          const history = await from.json<Entry[]>(["history", to.name]);
          return history.some((m) => m.outgoing && m.text === text && (m.state === "delivered" || m.state === "read")) ? true : undefined;
        }, 60_000, `${from.name} to see "${text}" delivered`);
      }),
    );

    // Nothing arrives twice later either (e.g. a retry racing the acknowledgement).
    for (const { from, to, text } of pairs) {
      const history = await to.json<Entry[]>(["history", from.name]);
      expect(history.filter((m) => !m.outgoing).map((m) => m.text)).toEqual([text]);
      expect(history.filter((m) => m.outgoing)).toHaveLength(1);
    }
  }, 300_000);
});
