import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair } from "../noise/index.js";
import { Cleanup, cleanupAfterEach, closeServer, closedOf, connectRaw, listenOn, peerOf, startNode, turn, until, within } from "../testing/index.js";

// Handshake deadlines over real loopback TCP, on a FakeClock.

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

describe("handshake timeout", () => {
  it("drops a client that connects and sends nothing at 15 s, and counts it", async () => {
    const clock = new FakeClock();
    const bob = await startNode({ clock, cleanup });
    const socket = await connectRaw(bob.address);
    cleanup.add(() => socket.destroy());
    await until(() => clock.pendingTimers === 1, "the handshake timer to be armed");
    clock.advance(14_999);
    await turn();
    expect(socket.destroyed).toBe(false);
    expect(bob.node.status().handshakeTimeouts).toBe(0);
    clock.advance(1);
    await within(closedOf(socket), 5_000, "the server to close the socket");
    await until(() => bob.node.status().handshakeTimeouts === 1, "the timeout to be counted");
    expect(bob.node.status()).toMatchObject({ rejectedPeers: 0, protocolErrors: 0 });
    expect(bob.link.events).toEqual([]);
  });

  it("gives up on a dialled listener that never answers at 15 s, counts it, and redials later", async () => {
    const clock = new FakeClock();
    const alice = await startNode({ clock, random: () => 1, cleanup });
    let received = 0;
    const accepted = new Set<Socket>();
    const blackHole = createServer((socket) => {
      accepted.add(socket);
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => (received += chunk.length));
    });
    const address = await listenOn(blackHole);
    cleanup.add(() => closeServer(blackHole, accepted));
    const carol = generateKeyPair().publicKey;
    alice.node.dial(carol, [address]);
    await until(() => received === 2 + 32, "alice's first handshake message");
    clock.advance(14_999);
    await turn();
    expect(peerOf(alice.node, carol).stats.connectFailures).toBe(0);
    clock.advance(1);
    await until(() => peerOf(alice.node, carol).stats.connectFailures === 1, "the handshake to time out");
    expect(peerOf(alice.node, carol).stats).toMatchObject({ connectAttempts: 1, lastErrorCode: "handshake-timeout" });
    expect(alice.node.status().handshakeTimeouts).toBe(1);
    await until(() => [...accepted].every((socket) => socket.destroyed || socket.readableEnded), "alice to hang up");
    // The redial follows the backoff schedule (1 s with random() = 1).
    clock.advance(1_000);
    expect(peerOf(alice.node, carol).stats.connectAttempts).toBe(2);
  });

  it("drops a slow-loris client that stops in the middle of a frame", async () => {
    const clock = new FakeClock();
    const bob = await startNode({ clock, cleanup });
    const socket = await connectRaw(bob.address);
    cleanup.add(() => socket.destroy());
    socket.write(Buffer.from([0x00, 0x20, 0x01, 0x02])); // announces 32 bytes, sends 2
    await until(() => clock.pendingTimers === 1, "the handshake timer to be armed");
    clock.advance(15_000);
    await within(closedOf(socket), 5_000, "the server to close the socket");
    await until(() => bob.node.status().handshakeTimeouts === 1, "the timeout to be counted");
  });
});
