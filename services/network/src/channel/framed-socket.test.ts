import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair } from "../noise/index.js";
import { Cleanup, RawNoisePeer, cleanupAfterEach, startNode, turn, until } from "../testing/index.js";

// The switch from handshake framing (frames ≤ 1 KiB) to transport framing (≤ 64 KiB) must
// happen exactly at the end of the last handshake message, wherever TCP cuts the stream: an
// initiator may send its first transport frames in the same segment as "-> s, se".

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

async function responder() {
  const clock = new FakeClock();
  const keys = generateKeyPair();
  const bob = await startNode({ clock, allowed: [keys.publicKey], cleanup });
  return { bob, keys };
}

describe("handshake → transport framing switch", () => {
  it("accepts a large transport frame in the same segment as the last handshake message", async () => {
    const { bob, keys } = await responder();
    const big = Buffer.alloc(20_000, 0x42);
    const raw = await RawNoisePeer.dial(bob.address, keys, { piggyback: [Buffer.from("hello"), big] });
    cleanup.add(() => raw.destroy());
    await until(() => bob.link.frames().length === 2, "both payloads to be delivered");
    expect(bob.link.frames()).toEqual([Buffer.from("hello"), big]);
    expect(bob.node.status().protocolErrors).toBe(0);
  });

  it("accepts a transport frame cut in two, its first part in the same segment as the last handshake message", async () => {
    // A second frame under the handshake limit (left half-read in the decoder) and one over it.
    for (const [size, cut] of [[500, 1], [500, 100], [1_500, 10], [1_500, 1_000]] as const) {
      const { bob, keys } = await responder();
      const payloads = [Buffer.from("first"), Buffer.alloc(size, 0x43)];
      const raw = await RawNoisePeer.dial(bob.address, keys, { piggyback: payloads, piggybackCut: cut });
      cleanup.add(() => raw.destroy());
      await bob.link.waitFor((e) => e.kind === "connected", "bob to accept the channel");
      await turn();
      raw.flushPending();
      await until(() => bob.link.frames().length === 2, `both payloads to be delivered (size ${size}, cut ${cut})`);
      expect(bob.link.frames()).toEqual(payloads);
      expect(bob.node.status().protocolErrors).toBe(0);
      await cleanup.run();
    }
  });
});
