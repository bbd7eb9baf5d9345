import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AsyncQueue, FakeClock, silentLogger } from "@jarvis/core";
import { errorCodeOf, errorMappingInterceptor } from "@jarvis/rpc";
import { NetworkService, type LinkRequest, type LinkResponse } from "@jarvis/proto/jarvis/network/v1/network_service";
import { NetworkNode } from "./src/network-node.js";
import { createNetworkRoutes } from "./routes.js";
import { MAX_PAYLOAD_BYTES } from "./src/channel/protocol.js";
import { Cleanup, RawNoisePeer, cleanupAfterEach, generateKeyPair, startNode } from "./src/testing/index.js";

// The NetworkService routes through connect's in-memory router transport: the real routes and
// error mapping over a real NetworkNode, whose peers are real loopback channels.

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

function serve() {
  const clock = new FakeClock();
  const node = new NetworkNode({ clock, logger: silentLogger, defaultListen: "127.0.0.1:0" });
  cleanup.add(() => node.close());
  const transport = createRouterTransport(createNetworkRoutes(node, silentLogger), { router: { interceptors: [errorMappingInterceptor()] } });
  return { clock, node, client: createClient(NetworkService, transport) };
}

/** Opens a Link and records what comes back. */
function openLink(client: ReturnType<typeof serve>["client"]) {
  const requests = new AsyncQueue<LinkRequest>();
  const responses: LinkResponse[] = [];
  const abort = new AbortController();
  const done = (async () => {
    for await (const response of client.link(requests, { signal: abort.signal })) responses.push(response);
  })().catch(() => undefined);
  cleanup.add(() => {
    abort.abort();
    requests.end();
    return Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  });
  const waitFor = async <T>(pick: (r: LinkResponse) => T | undefined, what: string): Promise<T> => {
    for (let i = 0; i < 5_000; i++) {
      for (const r of responses) {
        const found = pick(r);
        if (found !== undefined) return found;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error(`no ${what} on the Link`);
  };
  const send = (publicKey: Uint8Array, payload: Uint8Array, frameId: bigint) =>
    requests.push({ $typeName: "jarvis.network.v1.LinkRequest", body: { case: "frame", value: { $typeName: "jarvis.network.v1.OutboundFrame", publicKey, payload, frameId } } });
  return { responses, waitFor, send };
}

async function rpcError(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectError);
  return error as ConnectError;
}

describe("NetworkService routes", () => {
  it("Configure answers the bound listener and public key", async () => {
    const { client } = serve();
    const keys = generateKeyPair();
    const response = await client.configure({ staticPrivateKey: Buffer.from(keys.privateKey), listenAddress: "127.0.0.1:0", allowedPeerKeys: [] });
    expect(response.listenAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Buffer.from(response.staticPublicKey).equals(keys.publicKey)).toBe(true);
    expect((await client.getStatus({})).configured).toBe(true);
  });

  it("Dial refuses bad input with typed errors and needs a configured identity", async () => {
    const { client } = serve();
    const unconfigured = await rpcError(client.dial({ publicKey: generateKeyPair().publicKey, addresses: ["127.0.0.1:1"] }));
    expect(unconfigured.code).toBe(Code.FailedPrecondition);
    expect(errorCodeOf(unconfigured)).toBe("not-configured");
    await client.configure({ staticPrivateKey: Buffer.from(generateKeyPair().privateKey), listenAddress: "127.0.0.1:0", allowedPeerKeys: [] });
    expect((await rpcError(client.dial({ publicKey: Buffer.alloc(5), addresses: ["127.0.0.1:1"] }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(client.dial({ publicKey: generateKeyPair().publicKey, addresses: [] }))).code).toBe(Code.InvalidArgument);
    expect((await rpcError(client.dial({ publicKey: generateKeyPair().publicKey, addresses: ["no port"] }))).code).toBe(Code.InvalidArgument);
  });

  it("Link reports each frame once: FramesSent when written, FrameDropped with a code when not", async () => {
    const { client, clock } = serve();
    const keys = generateKeyPair();
    const bob = await startNode({ clock, allowed: [keys.publicKey], cleanup });
    await client.configure({ staticPrivateKey: Buffer.from(keys.privateKey), listenAddress: "127.0.0.1:0", allowedPeerKeys: [bob.publicKey] });
    const link = openLink(client);
    await client.dial({ publicKey: bob.publicKey, addresses: [bob.address] });
    await link.waitFor((r) => (r.body.case === "peerConnected" ? r.body.value : undefined), "peerConnected");

    link.send(bob.publicKey, Buffer.from("one"), 1n);
    link.send(bob.publicKey, Buffer.from("two"), 2n);
    link.send(bob.publicKey, Buffer.from("unreported"), 0n);
    link.send(generateKeyPair().publicKey, Buffer.from("nobody"), 3n);
    link.send(bob.publicKey, Buffer.alloc(MAX_PAYLOAD_BYTES + 1), 4n);
    link.send(bob.publicKey, Buffer.from("three"), 5n);

    await bob.link.waitFor((e) => e.kind === "frame" && e.payload.toString() === "three", "bob to receive the last frame");
    expect(bob.link.frames().map(String)).toEqual(["one", "two", "unreported", "three"]);
    const dropped = await link.waitFor((r) => (r.body.case === "frameDropped" && r.body.value.frameId === 4n ? r.body.value : undefined), "drop of frame 4");
    expect(dropped.errorCode).toBe("payload-too-large");
    await link.waitFor((r) => (r.body.case === "framesSent" && r.body.value.frameIds.includes(5n) ? true : undefined), "sent report of frame 5");
    const sent = link.responses.flatMap((r) => (r.body.case === "framesSent" ? r.body.value.frameIds : []));
    const drops = link.responses.flatMap((r) => (r.body.case === "frameDropped" ? [[r.body.value.frameId, r.body.value.errorCode] as const] : []));
    // Each id answered exactly once, sent ones in write order; id 0 never.
    expect(sent).toEqual([1n, 2n, 5n]);
    expect(drops).toEqual([
      [3n, "not-connected"],
      [4n, "payload-too-large"],
    ]);
  });

  it("when the peer goes away mid-stream every frame is answered exactly once; what was not written is dropped", async () => {
    const { client, node } = serve();
    const keys = generateKeyPair();
    const peerKeys = generateKeyPair();
    const { listenAddress } = await client.configure({ staticPrivateKey: Buffer.from(keys.privateKey), listenAddress: "127.0.0.1:0", allowedPeerKeys: [peerKeys.publicKey] });
    const link = openLink(client);
    const peer = await RawNoisePeer.dial(listenAddress, peerKeys);
    cleanup.add(() => peer.destroy());
    await link.waitFor((r) => (r.body.case === "peerConnected" ? r.body.value : undefined), "peerConnected");
    // The peer stops reading: what we send piles up in kernel buffers, then in the socket's own.
    peer.socket.pause();
    const count = 40;
    for (let i = 1; i <= count; i++) link.send(peerKeys.publicKey, Buffer.alloc(512 * 1024, i), BigInt(i));
    const answered = () => link.responses.flatMap((r) => (r.body.case === "framesSent" ? r.body.value.frameIds : r.body.case === "frameDropped" ? [r.body.value.frameId] : []));
    // The network takes frames until its per-peer cap of unwritten bytes is reached, then stops reading the Link.
    await link.waitFor(() => ((node.listPeers()[0]?.stats.bytesSent ?? 0) > 4 * 1024 * 1024 ? true : undefined), "the network to hand 4 MiB to the socket");
    peer.destroy();
    await link.waitFor(() => (answered().length === count ? true : undefined), "every frame to be answered");
    // Each id exactly once; the unwritten ones dropped as channel-closed (or not-connected, if sent after the close).
    expect([...answered()].sort((a, b) => Number(a - b))).toEqual(Array.from({ length: count }, (_, i) => BigInt(i + 1)));
    const codes = link.responses.flatMap((r) => (r.body.case === "frameDropped" ? [r.body.value.errorCode] : []));
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(["channel-closed", "not-connected"]).toContain(code);
  });
});
