import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair } from "../noise/index.js";
import { Cleanup, RawNoisePeer, cleanupAfterEach, closeServer, listenOn, startNode, turn, until } from "../testing/index.js";

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

describe("reconnect storm", () => {
  it("a peer that drops us right after the handshake is a failed attempt: the redial delays grow", async () => {
    const clock = new FakeClock();
    const responderKeys = generateKeyPair();
    // A contact that has not added us: it completes the handshake, then closes without a word.
    const accepted: Socket[] = [];
    let handshakes = 0;
    const responder = createServer((socket) => {
      accepted.push(socket);
      socket.on("error", () => {});
      void RawNoisePeer.accept(socket, responderKeys).then(
        (peer) => {
          handshakes++;
          peer.destroy();
        },
        () => socket.destroy(),
      );
    });
    const address = await listenOn(responder);
    cleanup.add(() => closeServer(responder, accepted));
    const alice = await startNode({ clock, backoff: { baseMs: 1_000, factor: 2, capMs: 16_000 }, random: () => 1, cleanup });
    const stats = () => alice.node.listPeers()[0]?.stats;

    alice.node.dial(responderKeys.publicKey, [address]);
    await until(() => handshakes === 1 && stats()?.connectFailures === 1, "the first channel to be dropped");
    expect(stats()).toMatchObject({ connectAttempts: 1, connectSuccesses: 1, lastErrorCode: "channel-closed" });

    // Each redial waits twice as long as the one before; without the fix every one came after 1 s.
    for (const [index, delay] of [1_000, 2_000, 4_000, 8_000, 16_000].entries()) {
      const attempts = stats()?.connectAttempts ?? 0;
      clock.advance(delay - 1);
      await turn();
      expect(stats()?.connectAttempts, `no redial before ${delay} ms`).toBe(attempts);
      clock.advance(1);
      expect(stats()?.connectAttempts).toBe(attempts + 1);
      await until(() => stats()?.connectFailures === index + 2, `redial ${index + 1} to be dropped`);
    }
    expect(handshakes).toBe(6);
  });
});
