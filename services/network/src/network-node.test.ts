import { connect, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, systemClock, type Clock, type TimerHandle } from "@jarvis/core";
import { generateKeyPair } from "./noise/index.js";
import {
  Cleanup,
  closeServer,
  closedOf,
  connectRaw,
  NodeSocketTracker,
  listenOn,
  portOf,
  startNode,
  until,
  within,
} from "./testing/index.js";

// What a closed node must not leave behind is counted on the node's own resources, never on
// the whole process (the test runner's timers and sockets come and go under load): its timers
// through the clock it was given, its sockets through NodeSocketTracker, its listener by
// connecting to it. A node that leaked a socket would leave it in tracker.open() (non-empty:
// the check fails; the last test shows the tracker does see a socket left open), one that kept
// a timer would leave clock.armed above 0, one that kept listening would accept the connection.

const cleanup = new Cleanup();
const trackers: NodeSocketTracker[] = [];
afterEach(async () => {
  for (const tracker of trackers.splice(0)) tracker.stop();
  await cleanup.run();
});

function track(listenAddress: string): NodeSocketTracker {
  const tracker = new NodeSocketTracker(portOf(listenAddress));
  trackers.push(tracker);
  return tracker;
}

/** Resolves true when a connection to the address is refused (nobody listens), false if it is accepted. */
function refused(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: portOf(address) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

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
    const hubClock = new CountingClock();
    const peerClock = new FakeClock();
    const hubKeys = generateKeyPair();
    const bKeys = generateKeyPair();
    const cKeys = generateKeyPair();
    const dKeys = generateKeyPair();
    const b = await startNode({ clock: peerClock, keys: bKeys, allowed: [hubKeys.publicKey], cleanup });
    const c = await startNode({ clock: peerClock, keys: cKeys, allowed: [hubKeys.publicKey], cleanup });
    const hub = await startNode({ clock: hubClock, keys: hubKeys, allowed: [bKeys.publicKey, cKeys.publicKey, dKeys.publicKey], cleanup });
    const hubSockets = track(hub.address);

    // An outbound channel (hub dialled b) and an inbound one (c dialled hub).
    hubSockets.dialling(() => hub.node.dial(b.publicKey, [b.address]));
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
    hubSockets.dialling(() => hub.node.dial(dKeys.publicKey, [blackHoleAddress]));
    const silent = await connectRaw(hub.address);
    cleanup.add(() => silent.destroy());
    await until(() => blackHoleSockets.size === 1, "the dial to reach the black hole");
    await until(() => hubClock.armed === 4, "two keepalive and two handshake timers on the hub");
    const [dialed] = blackHoleSockets;
    // Two dialled (to b, to the black hole), two accepted (from c, the silent client).
    expect(hubSockets.sockets.size).toBe(4);

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
    // Nothing of the hub is left: every socket it dialled or accepted is closed, it no longer listens.
    expect(hubSockets.open()).toEqual([]);
    expect(await refused(hub.address)).toBe(true);
  });

  it("an idle configured node closes at once and leaves no listener", async () => {
    const clock = new CountingClock();
    const node = await startNode({ clock, cleanup });
    expect(await refused(node.address)).toBe(false);
    await within(node.node.close(), 2_000, "close()");
    expect(clock.armed).toBe(0);
    expect(await refused(node.address)).toBe(true);
  });

  it("the socket check sees a socket the node did not close (it is not vacuous)", async () => {
    const clock = new CountingClock();
    const node = await startNode({ clock, cleanup });
    const nodeSockets = track(node.address);
    const client = await connectRaw(node.address);
    cleanup.add(() => client.destroy());
    await until(() => nodeSockets.sockets.size === 1, "the node to accept the connection");
    // Still open while the node runs (its handshake is pending): this is what a leak looks like.
    expect(nodeSockets.open()).toHaveLength(1);
    await within(node.node.close(), 2_000, "close()");
    expect(nodeSockets.open()).toEqual([]);
  });
});
