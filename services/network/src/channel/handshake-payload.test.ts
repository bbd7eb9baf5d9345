import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair } from "../noise/index.js";
import { Cleanup, RawNoisePeer, cleanupAfterEach, closeServer, listenOn, startNode, until, within } from "../testing/index.js";

// docs/protocol.md §3: handshake payloads are empty in version 1, and a non-empty one is
// refused: the connection closes, no channel opens, and it counts as a protocol error.
// Raw Noise peers on real loopback sockets; the FakeClock is never advanced.

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);
const PAYLOAD = Buffer.alloc(900, 0x41);

async function pair(clock: FakeClock) {
  const aliceKeys = generateKeyPair();
  const bobKeys = generateKeyPair();
  const bob = await startNode({ clock, keys: bobKeys, allowed: [aliceKeys.publicKey], cleanup });
  return { aliceKeys, bob };
}

describe("handshake payloads", () => {
  it.each([
    ["message 1 (-> e)", { payload1: PAYLOAD }],
    ["message 3 (-> s, se)", { payload3: PAYLOAD }],
    ["message 3, a single byte", { payload3: Buffer.from([0]) }],
  ])("a contact that puts a payload in %s gets no channel", async (_where, options) => {
    const clock = new FakeClock();
    const { aliceKeys, bob } = await pair(clock);
    const attempt = RawNoisePeer.dial(bob.address, aliceKeys, options);
    const peer = await attempt.catch(() => undefined);
    if (peer) {
      cleanup.add(() => peer.destroy());
      await within(peer.closed, 5_000, "bob to close the connection");
      expect(peer.payloads).toEqual([]);
    }
    await until(() => bob.node.status().protocolErrors === 1, "the refusal to be counted");
    expect(bob.link.count("connected")).toBe(0);
    expect(bob.node.listPeers().filter((p) => p.state === "connected")).toEqual([]);
  });

  it("the same contact with empty payloads connects (control)", async () => {
    const clock = new FakeClock();
    const { aliceKeys, bob } = await pair(clock);
    const peer = await RawNoisePeer.dial(bob.address, aliceKeys);
    cleanup.add(() => peer.destroy());
    await bob.link.waitFor((e) => e.kind === "connected", "alice's channel");
    expect(bob.node.status().protocolErrors).toBe(0);
  });

  it("a responder that puts a payload in message 2 is refused before we send our static key", async () => {
    const clock = new FakeClock();
    const respKeys = generateKeyPair();
    const alice = await startNode({ clock, allowed: [respKeys.publicKey], cleanup });
    const received: Buffer[] = [];
    const accepted = new Set<Socket>();
    const responder = createServer((socket) => {
      accepted.add(socket);
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      void RawNoisePeer.accept(socket, respKeys, { payload2: PAYLOAD }).catch(() => undefined);
    });
    const address = await listenOn(responder);
    cleanup.add(() => closeServer(responder, accepted));

    alice.node.dial(Buffer.from(respKeys.publicKey), [address]);
    const peer = () => alice.node.listPeers()[0];
    await until(() => peer()?.stats.connectFailures === 1, "alice's dial to fail");
    expect(peer()).toMatchObject({ state: "disconnected", stats: { connectSuccesses: 0, lastErrorCode: "handshake-payload" } });
    await until(() => [...accepted].every((s) => s.destroyed || s.readableEnded), "alice to hang up");
    // Only "-> e" ever left alice: her static key did not.
    expect(Buffer.concat(received).length).toBe(2 + 32);
  });
});
