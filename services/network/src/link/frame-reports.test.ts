import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import type { LinkEvent } from "./link.js";
import { generateKeyPair } from "../noise/index.js";
import { Cleanup, RawNoisePeer, cleanupAfterEach, startNode, turn, until, type TestNodeHandle } from "../testing/index.js";

// FrameDropped with code channel-closed: frames the Link handed to a channel that then closed
// before writing them. Every frame id must be answered exactly once, sent or dropped.

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

/** Every report on the node's Link so far: id → the outcomes reported for it (more than one is a bug). */
function reports(node: TestNodeHandle): Map<bigint, string[]> {
  const outcomes = new Map<bigint, string[]>();
  const add = (id: bigint, outcome: string) => outcomes.set(id, [...(outcomes.get(id) ?? []), outcome]);
  for (const event of node.link.events as LinkEvent[]) {
    if (event.kind === "sent") for (const id of event.frameIds) add(id, "sent");
    else if (event.kind === "dropped") add(event.frameId, event.code);
  }
  return outcomes;
}

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await turn();
}

async function nodeWithPeer(): Promise<{ hub: TestNodeHandle; peer: RawNoisePeer; peerKey: Buffer }> {
  const peerKeys = generateKeyPair();
  const hub = await startNode({ clock: new FakeClock(), allowed: [peerKeys.publicKey], cleanup });
  const peer = await RawNoisePeer.dial(hub.address, peerKeys);
  cleanup.add(() => peer.destroy());
  await hub.link.waitFor((e) => e.kind === "connected", "the peer's channel");
  return { hub, peer, peerKey: peerKeys.publicKey };
}

describe("FrameDropped channel-closed", () => {
  it("frames queued and the channel closed in the same turn are each dropped once as channel-closed", async () => {
    const { hub, peer, peerKey } = await nodeWithPeer();
    const link = hub.link.link;
    // Written and reported before the close: these stay "sent".
    for (const id of [1n, 2n]) void link.send(peerKey, Buffer.from(`early ${id}`), id);
    await until(() => reports(hub).size === 2, "the early frames' reports");

    // One turn: frames handed to the channel (held in the socket's buffer until the turn ends),
    // the channel closed (the peer is no longer a contact), then one more frame to a gone channel.
    const queued = Array.from({ length: 20 }, (_, i) => BigInt(i + 3));
    for (const id of queued) void link.send(peerKey, Buffer.alloc(1_000, Number(id)), id);
    hub.node.setAllowed([]);
    void link.send(peerKey, Buffer.from("after the close"), 23n);

    await until(() => reports(hub).size === 23, "every frame to be answered");
    await turns(10); // a late second report would show up here
    const outcomes = reports(hub);
    expect(outcomes.get(1n)).toEqual(["sent"]);
    expect(outcomes.get(2n)).toEqual(["sent"]);
    for (const id of queued) expect(outcomes.get(id)).toEqual(["channel-closed"]);
    expect(outcomes.get(23n)).toEqual(["not-connected"]);
    await peer.closed;
    expect(peer.payloads.map(String)).toEqual(["early 1", "early 2"]);
  });

  it("a peer that stops reading: what is still in the socket's buffer when the channel closes is dropped, each id answered once", async () => {
    const { hub, peer, peerKey } = await nodeWithPeer();
    const link = hub.link.link;
    peer.socket.pause();
    // Feed the Link while it takes frames. When a send is held back (more than the per-peer cap
    // of 4 MiB is unwritten), wait until writing makes no more progress: the kernel's buffers
    // are full and the peer reads nothing, so those 4 MiB stay in the socket's own buffer.
    // Bounded by count: the kernel cannot absorb 256 MiB from a peer that reads nothing.
    const frameBytes = 64 * 1024;
    const sentCount = () => [...reports(hub).values()].filter((o) => o[0] === "sent").length;
    let handed = 0;
    let stuck = false;
    while (!stuck && handed < 4_096) {
      handed++;
      let released = false;
      void link.send(peerKey, Buffer.alloc(frameBytes, handed % 256), BigInt(handed)).then(() => (released = true));
      await turns(20);
      let progress = -1;
      while (!released && sentCount() !== progress) {
        progress = sentCount();
        await turns(50);
      }
      stuck = !released;
    }
    expect(stuck).toBe(true);

    peer.destroy();
    await until(() => reports(hub).size === handed, "every frame to be answered");
    await turns(10);
    const outcomes = reports(hub);
    const all = Array.from({ length: handed }, (_, i) => BigInt(i + 1));
    for (const id of all) expect(outcomes.get(id)).toHaveLength(1);
    const dropped = all.filter((id) => outcomes.get(id)?.[0] !== "sent");
    // At least the 4 MiB held back, all of it lost to the close: 64 payloads of 64 KiB, less
    // one whose first chunk may have left (a payload is reported when its last chunk has).
    expect(dropped.length).toBeGreaterThanOrEqual((4 * 1024 * 1024) / frameBytes - 1);
    for (const id of dropped) expect(outcomes.get(id)).toEqual(["channel-closed"]);
    // Reports keep write order: every sent frame was written before every dropped one.
    expect(Math.max(...all.filter((id) => outcomes.get(id)?.[0] === "sent").map(Number))).toBeLessThan(Number(dropped[0]));
  });
});

describe("frames addressed to a channel", () => {
  it("go out on that channel only: after the peer reconnects, a frame for the old channel is dropped as stale-channel", async () => {
    const peerKeys = generateKeyPair();
    const peerKey = peerKeys.publicKey;
    const hub = await startNode({ clock: new FakeClock(), allowed: [peerKey], cleanup });
    const peer = await RawNoisePeer.dial(hub.address, peerKeys);
    cleanup.add(() => peer.destroy());
    await hub.link.waitFor((e) => e.kind === "connected", "the peer's channel");
    const link = hub.link.link;
    const channelIds = () => (hub.link.events as LinkEvent[]).flatMap((e) => (e.kind === "connected" ? [e.channelId] : []));
    const [first] = channelIds();
    expect(first).toBeGreaterThan(0n);
    void link.send(peerKey, Buffer.from("on the first channel"), 1n, first);
    await until(() => reports(hub).size === 1, "the first frame's report");

    // The peer comes back on a new channel; a frame the session meant for the first one must
    // not overtake, on the new channel, what the session resends there in order.
    peer.destroy();
    await hub.link.waitFor((e) => e.kind === "disconnected", "the first channel to close");
    const again = await RawNoisePeer.dial(hub.address, peerKeys);
    cleanup.add(() => again.destroy());
    await until(() => channelIds().length === 2, "the second channel");
    const second = channelIds()[1] as bigint;
    expect(second).toBeGreaterThan(first as bigint);
    void link.send(peerKey, Buffer.from("meant for the first channel"), 2n, first);
    void link.send(peerKey, Buffer.from("on the second channel"), 3n, second);
    void link.send(peerKey, Buffer.from("on whatever channel is up"), 4n, 0n);
    await until(() => reports(hub).size === 4, "every frame to be answered");
    const outcomes = reports(hub);
    expect(outcomes.get(1n)).toEqual(["sent"]);
    expect(outcomes.get(2n)).toEqual(["stale-channel"]);
    expect(outcomes.get(3n)).toEqual(["sent"]);
    expect(outcomes.get(4n)).toEqual(["sent"]);
    await until(() => again.payloads.length === 2, "the second channel's payloads");
    expect(again.payloads.map(String)).toEqual(["on the second channel", "on whatever channel is up"]);
  });
});
