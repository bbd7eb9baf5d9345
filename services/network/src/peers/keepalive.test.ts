import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair } from "../noise/index.js";
import type { ControlMessage } from "../framing/index.js";
import { Cleanup, RawNoisePeer, cleanupAfterEach, isConnected, peerOf, startNode, turn, until, within } from "../testing/index.js";

// The keepalive over real loopback TCP, its timers on a FakeClock: the test advances the clock,
// then waits for the I/O.

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

function pingNonce(message: ControlMessage | undefined): bigint {
  if (message?.kind !== "ping") throw new Error(`expected a ping, got ${String(message?.kind)}`);
  return message.nonce;
}

/** Resolves once the raw peer has received `count` control chunks in total. */
async function controlsOf(raw: RawNoisePeer, count: number): Promise<ControlMessage[]> {
  await until(() => raw.controls.length >= count, `${count} control chunks`);
  return raw.controls.slice(0, count);
}

describe("keepalive", () => {
  async function silentPeer(clock: FakeClock) {
    const rawKeys = generateKeyPair();
    const bob = await startNode({ clock, allowed: [rawKeys.publicKey], cleanup });
    const raw = await RawNoisePeer.dial(bob.address, rawKeys);
    cleanup.add(() => raw.destroy());
    await bob.link.waitFor((e) => e.kind === "connected", "bob to accept the raw peer");
    return { bob, raw, rawKeys };
  }

  it("pings every 30 s and drops a silent peer at 90 s, not before", async () => {
    const clock = new FakeClock();
    const { bob, raw, rawKeys } = await silentPeer(clock);
    const sent = () => peerOf(bob.node, rawKeys.publicKey).stats.bytesSent;

    for (const n of [1, 2]) {
      const before = sent();
      clock.advance(29_999);
      expect(sent()).toBe(before);
      clock.advance(1);
      expect(sent()).toBeGreaterThan(before);
      const controls = await controlsOf(raw, n);
      expect(controls[n - 1]?.kind).toBe("ping");
      // Keepalive is below the payload layer: nothing reaches the peer's application.
      expect(raw.payloads).toEqual([]);
    }
    // 60 s so far; at 89.999 s the channel is still up.
    clock.advance(29_999);
    await turn();
    expect(isConnected(bob.node, rawKeys.publicKey)).toBe(true);
    expect(bob.link.count("disconnected")).toBe(0);
    clock.advance(1);
    expect(isConnected(bob.node, rawKeys.publicKey)).toBe(false);
    const event = await bob.link.waitFor((e) => e.kind === "disconnected", "bob to drop the silent peer");
    expect(event).toMatchObject({ code: "keepalive-timeout" });
    await within(raw.closed, 5_000, "the raw socket to be closed");
    expect(peerOf(bob.node, rawKeys.publicKey).stats.lastErrorCode).toBe("keepalive-timeout");
    expect(bob.link.count("frame")).toBe(0);
  });

  it("a Pong sets rttMs from the fake clock and counts as traffic; a Ping is answered", async () => {
    const clock = new FakeClock();
    const { bob, raw, rawKeys } = await silentPeer(clock);
    clock.advance(30_000);
    const [ping] = await controlsOf(raw, 1);
    const nonce = pingNonce(ping);
    // The pong arrives 7 ms (fake) after the ping was sent.
    clock.advance(7);
    raw.sendControl({ kind: "pong", nonce });
    await until(() => peerOf(bob.node, rawKeys.publicKey).stats.rttMs === 7, "rttMs to be set by the pong");
    // A pong with a nonce we never sent changes nothing.
    clock.advance(5);
    raw.sendControl({ kind: "pong", nonce: 12345n });
    raw.sendControl({ kind: "ping", nonce: 99n });
    const controls = await controlsOf(raw, 2);
    expect(controls[1]).toEqual({ kind: "pong", nonce: 99n });
    expect(peerOf(bob.node, rawKeys.publicKey).stats.rttMs).toBe(7);
    // Keepalives never reach the session.
    expect(bob.link.count("frame")).toBe(0);

    // Last traffic at 30.012 s: the idle deadline moved to 120.012 s (pings at 60 s and 90 s go unanswered).
    clock.advance(120_011 - 30_012);
    await turn();
    expect(isConnected(bob.node, rawKeys.publicKey)).toBe(true);
    clock.advance(1);
    expect(isConnected(bob.node, rawKeys.publicKey)).toBe(false);
    await bob.link.waitFor((e) => e.kind === "disconnected", "bob to drop the peer");
  });

  it("a peer that answers every ping is never dropped", async () => {
    const clock = new FakeClock();
    const { bob, raw, rawKeys } = await silentPeer(clock);
    for (let i = 1; i <= 10; i++) {
      clock.advance(30_000);
      const controls = await controlsOf(raw, i);
      const nonce = pingNonce(controls[i - 1]);
      const received = peerOf(bob.node, rawKeys.publicKey).stats.bytesReceived;
      raw.sendControl({ kind: "pong", nonce });
      await until(() => peerOf(bob.node, rawKeys.publicKey).stats.bytesReceived > received, "the pong to arrive");
      expect(isConnected(bob.node, rawKeys.publicKey)).toBe(true);
    }
    expect(bob.link.count("disconnected")).toBe(0);
  });
});
