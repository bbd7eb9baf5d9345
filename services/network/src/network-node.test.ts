import { createServer, type Socket } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeClock, systemClock, type Clock, type TimerHandle } from "@jarvis/core";
import { generateKeyPair } from "./noise/index.js";
import {
  Cleanup,
  closeServer,
  closedOf,
  connectRaw,
  handlesSettledTo,
  listenOn,
  liveHandles,
  startNode,
  until,
  within,
} from "./testing/index.js";

const cleanup = new Cleanup();
let fileBaseline: Record<string, number> = {};
beforeAll(() => {
  fileBaseline = liveHandles();
});
afterEach(async () => {
  await cleanup.run();
  // Closed handles are released a loop iteration or two after their close callbacks; let that
  // happen so the next test's "before" is not counting this test's leftovers.
  await handlesSettledTo(fileBaseline);
});

/** The system clock, counting the timers that are still armed (they are unref'd, so invisible to getActiveResourcesInfo). */
class CountingClock implements Clock {
  armed = 0;

  now(): number {
    return systemClock.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    let done = false;
    const settle = () => {
      if (!done) this.armed--;
      done = true;
    };
    this.armed++;
    const handle = systemClock.setTimeout(() => {
      settle();
      callback();
    }, delayMs);
    return {
      cancel: () => {
        settle();
        handle.cancel();
      },
    };
  }
}

describe("graceful shutdown", () => {
  it("closes within a few seconds with channels both ways, a handshake and a dial in flight; peers see a goodbye; nothing is left", async () => {
    const before = liveHandles();
    const hubClock = new CountingClock();
    const peerClock = new FakeClock();
    const hubKeys = generateKeyPair();
    const bKeys = generateKeyPair();
    const cKeys = generateKeyPair();
    const dKeys = generateKeyPair();
    const b = await startNode({ clock: peerClock, keys: bKeys, allowed: [hubKeys.publicKey], cleanup });
    const c = await startNode({ clock: peerClock, keys: cKeys, allowed: [hubKeys.publicKey], cleanup });
    const hub = await startNode({ clock: hubClock, keys: hubKeys, allowed: [bKeys.publicKey, cKeys.publicKey, dKeys.publicKey], cleanup });

    // An outbound channel (hub dialled b) and an inbound one (c dialled hub).
    hub.node.dial(b.publicKey, [b.address]);
    c.node.dial(hub.publicKey, [hub.address]);
    await b.link.waitFor((e) => e.kind === "connected", "b connected");
    await c.link.waitFor((e) => e.kind === "connected", "c connected");
    await until(() => hub.node.listPeers().filter((p) => p.state === "connected").length === 2, "hub to have both channels");

    // A dial in flight to a listener that accepts and never answers, and an inbound client that never speaks.
    const blackHoleSockets = new Set<Socket>();
    const blackHole = createServer((socket) => {
      blackHoleSockets.add(socket);
      socket.on("error", () => {});
      socket.resume(); // reads (and ignores) everything, so it sees the close
    });
    const blackHoleAddress = await listenOn(blackHole);
    cleanup.add(() => closeServer(blackHole, blackHoleSockets));
    hub.node.dial(dKeys.publicKey, [blackHoleAddress]);
    const silent = await connectRaw(hub.address);
    cleanup.add(() => silent.destroy());
    await until(() => blackHoleSockets.size === 1, "the dial to reach the black hole");
    await until(() => hubClock.armed === 4, "two keepalive and two handshake timers on the hub");
    const [dialed] = blackHoleSockets;

    const bMark = b.link.events.length;
    const cMark = c.link.events.length;
    const started = Date.now();
    await within(hub.node.close(), 5_000, "hub.close()");
    expect(Date.now() - started).toBeLessThan(3_000);

    // The peers were told, and record no error for it.
    expect(await b.link.waitFor((e) => e.kind === "disconnected", "b to see the goodbye", bMark)).toMatchObject({ code: "goodbye" });
    expect(await c.link.waitFor((e) => e.kind === "disconnected", "c to see the goodbye", cMark)).toMatchObject({ code: "goodbye" });
    expect(b.node.listPeers()[0]?.stats.lastErrorCode).toBe("");
    expect(c.node.listPeers()[0]?.stats.lastErrorCode).toBe("");
    // The half-done connections were closed, not left to their timeouts.
    await within(closedOf(silent), 2_000, "the silent inbound socket to be closed");
    await within(closedOf(dialed as Socket), 2_000, "the in-flight dial to be closed");
    expect(hubClock.armed).toBe(0);
    expect(hub.node.status()).toMatchObject({ configured: false, listenAddress: "" });
    // What is left is exactly the three other listeners (b, c, the black hole): no socket at all.
    const othersOnly = { ...before, TCPServerWrap: (before.TCPServerWrap ?? 0) + 3 };
    expect(await handlesSettledTo(othersOnly)).toEqual(othersOnly);

    await cleanup.run();
    expect(await handlesSettledTo(before)).toEqual(before);
  });

  it("an idle configured node closes at once and leaves no listener", async () => {
    const before = liveHandles();
    const clock = new CountingClock();
    const node = await startNode({ clock, cleanup });
    expect(liveHandles().TCPServerWrap).toBe((before.TCPServerWrap ?? 0) + 1);
    await within(node.node.close(), 2_000, "close()");
    expect(clock.armed).toBe(0);
    expect(await handlesSettledTo(before)).toEqual(before);
  });
});
