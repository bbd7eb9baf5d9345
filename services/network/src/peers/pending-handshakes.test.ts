import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair } from "../noise/index.js";
import { Cleanup, cleanupAfterEach, startNode, until } from "../testing/index.js";
import { PendingBySource, handshakeSource } from "./handshake-sources.js";

// Strangers crowding the listener (issue 15): real loopback sockets from other source
// addresses (all of 127.0.0.0/8 is loopback on Linux), every timer on a FakeClock so the
// strangers' handshakes never time out by themselves: they are held for as long as the test wants.

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

interface Crowd {
  sockets: Socket[];
  open(): number;
}

/** Opens `count` sockets from `localAddress`; every other one sends one byte of a frame header. */
async function crowd(port: number, localAddress: string, count: number): Promise<Crowd> {
  const sockets: Socket[] = [];
  cleanup.add(() => sockets.forEach((s) => s.destroy()));
  const closed = new Set<Socket>();
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise<void>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, localAddress });
        sockets.push(socket);
        socket.on("close", () => closed.add(socket));
        socket.once("error", (error) => (socket.connecting ? reject(error) : undefined));
        socket.on("error", () => undefined);
        socket.once("connect", () => {
          if (i % 2 === 1) socket.write(Buffer.from([0x00])); // half a length prefix, then silence
          resolve();
        });
      }),
    ),
  );
  return { sockets, open: () => count - closed.size };
}

async function contactPair(clock: FakeClock, handshakeLimits?: { pendingTotal?: number; pendingPerAddress?: number }) {
  const aliceKeys = generateKeyPair();
  const bobKeys = generateKeyPair();
  const bob = await startNode({ clock, keys: bobKeys, allowed: [aliceKeys.publicKey], handshakeLimits, cleanup });
  const alice = await startNode({ clock, keys: aliceKeys, allowed: [bobKeys.publicKey], cleanup });
  return { alice, bob };
}

describe("pending handshakes are capped per source", () => {
  it("one address holding 500 idle or half-open sockets does not keep a contact out", async () => {
    const clock = new FakeClock();
    const { alice, bob } = await contactPair(clock);
    const attacker = await crowd(bob.port, "127.0.0.2", 500);
    // The listener keeps 16 (the per-source cap) and closes the rest as they arrive.
    await until(() => attacker.open() === 16, "all but 16 of the attacker's sockets to be closed", 20_000);

    const started = performance.now();
    alice.node.dial(bob.publicKey, [bob.address]);
    await bob.link.waitFor((e) => e.kind === "connected" && e.publicKey.equals(alice.publicKey), "alice's channel", 0, 10_000);
    const elapsedMs = performance.now() - started;
    console.info(`contact connected in ${elapsedMs.toFixed(1)} ms while one address held 500 sockets (16 pending)`);
    expect(attacker.open()).toBe(16);
    expect(elapsedMs).toBeLessThan(1_000);
  });

  it("when many sources fill every slot, a newcomer takes the oldest slot of the largest source", async () => {
    const clock = new FakeClock();
    const { alice, bob } = await contactPair(clock, { pendingTotal: 32, pendingPerAddress: 16 });
    const first = await crowd(bob.port, "127.0.0.2", 16);
    const second = await crowd(bob.port, "127.0.0.3", 16);
    await until(() => first.open() + second.open() === 32, "32 pending handshakes");

    alice.node.dial(bob.publicKey, [bob.address]);
    await bob.link.waitFor((e) => e.kind === "connected" && e.publicKey.equals(alice.publicKey), "alice's channel", 0, 10_000);
    // Exactly one stranger's handshake made room, and it was the oldest of its source.
    await until(() => first.open() + second.open() === 31, "one stranger evicted");
    const evicted = [...first.sockets, ...second.sockets].filter((s) => s.closed);
    expect(evicted).toHaveLength(1);
    expect([first.sockets[0], second.sockets[0]]).toContain(evicted[0]);

    // The source that still holds 16 gets no 17th, even with a slot free (alice's is done).
    const full = first.open() === 16 ? "127.0.0.2" : "127.0.0.3";
    const late = await crowd(bob.port, full, 1);
    await until(() => late.open() === 0, "the 17th socket of one source to be refused");
    expect(first.open() + second.open()).toBe(31);
  });
});

describe("handshake sources", () => {
  it("charge IPv4 per address (also IPv4-mapped) and IPv6 per /64", () => {
    expect(handshakeSource("203.0.113.7")).toBe("203.0.113.7");
    expect(handshakeSource("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(handshakeSource("2001:db8:1:2::1")).toBe(handshakeSource("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    expect(handshakeSource("2001:db8:1:2::1")).not.toBe(handshakeSource("2001:db8:1:3::1"));
    expect(handshakeSource("2001:0db8:0001:0002::1")).toBe(handshakeSource("2001:db8:1:2::9"));
    expect(handshakeSource("::1")).toBe("0:0:0:0::/64");
    expect(handshakeSource(undefined)).toBe("?");
  });

  it("PendingBySource picks the oldest item of the largest source, above a threshold", () => {
    const pending = new PendingBySource<string>();
    pending.add("a", "a1");
    pending.add("b", "b1");
    pending.add("b", "b2");
    expect(pending.oldestOfLargest(1)).toEqual({ source: "b", item: "b1" });
    expect(pending.oldestOfLargest(2)).toBeUndefined();
    pending.delete("b", "b1");
    expect([pending.count("b"), pending.oldestOfLargest(0)]).toEqual([1, { source: "a", item: "a1" }]);
  });
});
