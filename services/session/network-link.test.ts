import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRouterTransport, type Interceptor } from "@connectrpc/connect";
import type { LinkRequest, LinkResponse } from "@jarvis/proto/jarvis/network/v1/network_service";
import { profilePaths, silentLogger, systemClock } from "@jarvis/core";
import { NetworkNode, createNetworkRoutes } from "@jarvis/network";
import { GrpcPeerNetwork } from "./network-client.js";
import { SessionApp, createTestProfile, encodeLinkCode, TEST_PASSWORD } from "./src/testing/index.js";

/**
 * The session's network client against a real, in-process network node: connect's in-memory
 * router transport stands in for the IPC socket only. Between the two nodes are real TCP
 * sockets on loopback and real Noise channels; each session has its real encrypted store.
 */
interface Node {
  app: SessionApp;
  network: NetworkNode;
  client: GrpcPeerNetwork;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What crossed one node's Link, message by message (each entry: the body's case and its frame count). */
interface LinkTraffic {
  requests: { kind: string; frames: number }[];
  responses: { kind: string; frames: number }[];
}

const framesIn = (body: LinkRequest["body"] | LinkResponse["body"]): number =>
  body.case === "frame" ? 1 : body.case === "frames" ? body.value.frames.length : 0;

async function* tap<T>(messages: AsyncIterable<T>, seen: (message: T) => void): AsyncIterable<T> {
  for await (const message of messages) {
    seen(message);
    yield message;
  }
}

/**
 * Records every Link message between session and network; `legacyNetwork` makes GetStatus
 * answer as a network from before frame batches (link_frame_batches false).
 */
function linkTap(traffic: LinkTraffic, legacyNetwork: boolean): Interceptor {
  return (next) => async (req) => {
    if (req.stream && req.method.name === "Link") {
      req = { ...req, message: tap(req.message as AsyncIterable<LinkRequest>, (m) => traffic.requests.push({ kind: m.body.case ?? "", frames: framesIn(m.body) })) };
    }
    const res = await next(req);
    if (res.stream && res.method.name === "Link") {
      return { ...res, message: tap(res.message as AsyncIterable<LinkResponse>, (m) => traffic.responses.push({ kind: m.body.case ?? "", frames: framesIn(m.body) })) };
    }
    if (!res.stream && res.method.name === "GetStatus" && legacyNetwork) (res.message as { linkFrameBatches: boolean }).linkFrameBatches = false;
    return res;
  };
}

async function startNode(name: string, tapOptions?: { traffic: LinkTraffic; legacyNetwork: boolean }): Promise<Node> {
  const home = mkdtempSync(join(tmpdir(), "jv-link-"));
  await createTestProfile(home, { name, password: TEST_PASSWORD });
  const network = new NetworkNode({ clock: systemClock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
  const interceptors = tapOptions ? [linkTap(tapOptions.traffic, tapOptions.legacyNetwork)] : [];
  const transport = createRouterTransport(createNetworkRoutes(network, silentLogger), { transport: { interceptors } });
  const client = new GrpcPeerNetwork(transport, systemClock, silentLogger, { reconnect: { baseMs: 20, factor: 2, capMs: 200 } });
  const app = new SessionApp({ paths: profilePaths(home), clock: systemClock, logger: silentLogger, network: client, listen: "127.0.0.1:0", advertise: "" });
  client.start();
  cleanups.push(async () => {
    await app.close();
    await client.close();
    await network.close();
    rmSync(home, { recursive: true, force: true });
  });
  await app.unlock(TEST_PASSWORD);
  await vi.waitFor(() => expect(app.status().listenAddress).not.toBe(""), { timeout: 10_000 });
  return { app, network, client };
}

function linkNodes(a: Node, b: Node): void {
  a.app.addContact({ linkCode: encodeLinkCode(b.app.identity().card) }, "");
  b.app.addContact({ linkCode: encodeLinkCode(a.app.identity().card) }, "");
}

function stateOf(node: Node, conversation: string, id: string): string | undefined {
  return node.app.listMessages(conversation, { limit: 100 }).messages.find((m) => m.id === id)?.state;
}

/** The state changes the node's event log recorded for one message, in order. */
async function statesOf(node: Node, messageId: string): Promise<string[]> {
  const states: string[] = [];
  const latest = node.app.requireUnlocked().store.events.latestCursor();
  for await (const stored of node.app.subscribe(0, false, new AbortController().signal)) {
    if (stored.event.type === "message_state_changed" && stored.event.messageId === messageId) states.push(stored.event.state);
    if (stored.cursor >= latest) break;
  }
  return states;
}

describe("session network client over a real in-process network node", () => {
  it("delivers a message end to end and moves it forward to delivered", async () => {
    const alice = await startNode("alice");
    const bob = await startNode("bob");
    linkNodes(alice, bob);
    const bobUid = bob.app.identity().identity.uid;
    const aliceUid = alice.app.identity().identity.uid;
    await vi.waitFor(() => expect(alice.network.listPeers().some((p) => p.state === "connected")).toBe(true), { timeout: 10_000 });

    const message = await alice.app.sendMessage(bobUid, "over real sockets");
    await vi.waitFor(() => expect(stateOf(alice, bobUid, message.id)).toBe("delivered"), { timeout: 10_000 });
    const received = bob.app.listMessages(aliceUid, { limit: 10 }).messages;
    expect(received.map((m) => m.text)).toEqual(["over real sockets"]);
    expect(received[0]?.id).toBe(message.id);
    // Forward only, ending delivered; "sent" is recorded only if the ack took longer than the
    // fold (SENT_FOLD_MS), otherwise the ack's commit takes it straight from queued.
    expect([["sent", "delivered"], ["delivered"]]).toContainEqual(await statesOf(alice, message.id));
  });

  it("keeps a message queued while the peer is unreachable and delivers it, once, when it returns", async () => {
    const alice = await startNode("alice");
    const bob = await startNode("bob");
    linkNodes(alice, bob);
    const bobUid = bob.app.identity().identity.uid;
    const aliceUid = alice.app.identity().identity.uid;
    await vi.waitFor(() => expect(alice.network.listPeers().some((p) => p.state === "connected")).toBe(true), { timeout: 10_000 });

    // Bob locks: his network drops every channel and his listener.
    await bob.app.lock();
    await vi.waitFor(() => expect(alice.network.listPeers().every((p) => p.state !== "connected")).toBe(true), { timeout: 10_000 });
    const message = await alice.app.sendMessage(bobUid, "while you were away");
    expect(stateOf(alice, bobUid, message.id)).toBe("queued");

    await bob.app.unlock(TEST_PASSWORD);
    // Bob's new listener port is the one his card carries (kept across unlocks); alice redials it.
    await vi.waitFor(() => expect(stateOf(alice, bobUid, message.id)).toBe("delivered"), { timeout: 20_000 });
    const received = bob.app.listMessages(aliceUid, { limit: 10 }).messages;
    expect(received.map((m) => m.id)).toEqual([message.id]);
  });

  it.each([
    ["batches frames per turn both ways", false],
    ["still speaks one frame per message to a network without batches", true],
  ])("%s; 200 messages arrive once, in order", async (_name, legacyNetwork) => {
    const aliceLink: LinkTraffic = { requests: [], responses: [] };
    const bobLink: LinkTraffic = { requests: [], responses: [] };
    const alice = await startNode("alice", { traffic: aliceLink, legacyNetwork });
    const bob = await startNode("bob", { traffic: bobLink, legacyNetwork });
    linkNodes(alice, bob);
    const bobUid = bob.app.identity().identity.uid;
    const aliceUid = alice.app.identity().identity.uid;
    await vi.waitFor(() => expect(alice.network.listPeers().some((p) => p.state === "connected")).toBe(true), { timeout: 10_000 });
    await vi.waitFor(() => expect(bob.network.listPeers().some((p) => p.state === "connected")).toBe(true), { timeout: 10_000 });

    const count = 200;
    const sent = await Promise.all(Array.from({ length: count }, (_, i) => alice.app.sendMessage(bobUid, `message ${i}`)));
    const undelivered = () => alice.app.listMessages(bobUid, { limit: 1000 }).messages.filter((m) => m.state !== "delivered").length;
    await vi.waitFor(() => expect(undelivered()).toBe(0), { timeout: 20_000 });
    const received = bob.app.listMessages(aliceUid, { limit: 1000 }).messages;
    expect(received.map((m) => m.text)).toEqual(sent.map((m) => m.text));

    const chatRequests = aliceLink.requests.filter((r) => r.frames > 0);
    const inbound = bobLink.responses.filter((r) => r.frames > 0);
    if (legacyNetwork) {
      // No options, no batches: exactly what an older network understands.
      expect(aliceLink.requests.every((r) => r.kind === "frame")).toBe(true);
      expect(bobLink.responses.some((r) => r.kind === "frames")).toBe(false);
      expect(chatRequests.length).toBeGreaterThanOrEqual(count);
    } else {
      expect(aliceLink.requests[0]?.kind).toBe("options");
      // The 200 sends were committed together, so their frames crossed alice's Link in a few messages.
      expect(chatRequests.reduce((n, r) => n + r.frames, 0)).toBeGreaterThanOrEqual(count);
      expect(chatRequests.length).toBeLessThan(count / 10);
      // Bob's network read them in socket-sized pieces and passed each piece on as one message.
      expect(inbound.reduce((n, r) => n + r.frames, 0)).toBeGreaterThanOrEqual(count);
      expect(inbound.length).toBeLessThan(count);
    }
  });
});
