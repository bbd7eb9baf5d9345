import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair } from "../noise/index.js";
import { encodePacked, FrameDecoder, MAX_CHUNK_DATA, splitPayload } from "../framing/index.js";
import type { ControlMessage } from "../framing/index.js";
import { errorCode } from "../errors.js";
import { Cleanup, cleanupAfterEach, RawNoisePeer, secureChannelPair, startNode, turn, until, type ChannelPair } from "../testing/index.js";
import type { SecureChannel } from "./secure-channel.js";

// Packed transport messages (docs/protocol.md §4): several chunks under one seal, only towards a
// peer that announced it reads them, with every per-chunk rule still applied on the way in.

const opened: ChannelPair[] = [];
afterEach(() => {
  for (const pair of opened.splice(0)) for (const stream of pair.streams) stream.destroy();
});
const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

function record(channel: SecureChannel) {
  const seen = { payloads: [] as Buffer[], controls: [] as ControlMessage[], closed: [] as Error[] };
  channel.start({
    onPayload: (payload) => seen.payloads.push(payload),
    onControl: (message) => seen.controls.push(message),
    onClose: (error) => seen.closed.push(error),
  });
  return seen;
}

/** A memory channel pair whose a→b frames are counted (and, once `tamper` is set, the last byte of the next write flipped). */
async function countedPair() {
  const tap = { frames: 0, tamper: false };
  const decoder = new FrameDecoder();
  const pair = await secureChannelPair({
    tapAtoB: (chunk) => {
      tap.frames += decoder.push(chunk).length;
      if (!tap.tamper) return chunk;
      tap.tamper = false;
      const copy = Buffer.from(chunk);
      copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01;
      return copy;
    },
  });
  opened.push(pair);
  return { ...pair, tap };
}

const numbered = (count: number, size = 100) =>
  Array.from({ length: count }, (_, i) => {
    const payload = Buffer.alloc(size, i & 0xff);
    payload.writeUInt32BE(i, 0);
    return payload;
  });

describe("packed transport messages between two channels", () => {
  it("once both have announced, 1,000 small payloads sent in one turn cross in a handful of frames, each once and in order", async () => {
    const { a, b, tap } = await countedPair();
    const seen = record(b);
    record(a);
    await until(() => a.peerReadsPacked && b.peerReadsPacked, "both features announcements");
    const framesBefore = tap.frames;
    const payloads = numbered(1000);
    const written: (Error | undefined)[] = [];
    for (const payload of payloads) a.send(payload, (error) => written.push(error));
    await until(() => seen.payloads.length === payloads.length && written.length === payloads.length, "every payload, and every written report");
    expect(seen.payloads).toEqual(payloads);
    expect(written.every((error) => error === undefined)).toBe(true);
    // 1,000 × (2 + 1 + 100) bytes fit in two 64 KiB messages; unpacked it would be 1,000 frames.
    expect(tap.frames - framesBefore).toBe(2);
    expect(b.messagesReceived).toBe(1000);
  });

  it("keeps order across packed small payloads, multi-chunk payloads and control chunks", async () => {
    const { a, b } = await countedPair();
    const seen = record(b);
    record(a);
    await until(() => a.peerReadsPacked, "b's features announcement");
    const payloads = [...numbered(30), Buffer.alloc(3 * MAX_CHUNK_DATA + 5, 9), ...numbered(30, 40), Buffer.alloc(0)];
    payloads.slice(0, 40).forEach((payload) => a.send(payload));
    a.sendControl({ kind: "ping", nonce: 7n });
    payloads.slice(40).forEach((payload) => a.send(payload));
    await until(() => seen.payloads.length === payloads.length && seen.controls.length === 1, "everything");
    expect(seen.payloads).toEqual(payloads);
    expect(seen.controls).toEqual([{ kind: "ping", nonce: 7n }]);
    expect(seen.closed).toEqual([]);
  });

  it("sends one plain message per chunk until the peer has announced packing", async () => {
    const { a, b, tap } = await countedPair();
    const handshakeFrames = tap.frames;
    record(a); // b is not started yet, so a has heard nothing from it
    const payloads = numbered(50);
    for (const payload of payloads) a.send(payload);
    await until(() => tap.frames === handshakeFrames + 1 + 50, "a's features and 50 plain frames");
    for (let i = 0; i < 20; i++) await turn();
    expect(tap.frames).toBe(handshakeFrames + 51);
    expect(a.peerReadsPacked).toBe(false);
    const seen = record(b);
    await until(() => seen.payloads.length === 50, "the 50 payloads");
    expect(seen.payloads).toEqual(payloads);
  });

  it("a tampered packed message closes the receiver with decrypt-failed and delivers none of its payloads", async () => {
    const { a, b, tap } = await countedPair();
    const seen = record(b);
    const seenByA = record(a);
    await until(() => a.peerReadsPacked, "b's features announcement");
    a.send(Buffer.from("intact"));
    await until(() => seen.payloads.length === 1, "the intact payload");
    tap.tamper = true;
    const framesBefore = tap.frames;
    for (const payload of numbered(100)) a.send(payload);
    await until(() => seen.closed.length === 1, "the receiver to close");
    expect(tap.frames - framesBefore).toBe(1); // all 100 were in that one message
    expect(errorCode(seen.closed[0])).toBe("decrypt-failed");
    expect(seen.payloads).toEqual([Buffer.from("intact")]);
    await until(() => seenByA.closed.length === 1, "the sender to see the close");
  });
});

describe("packed messages from a hostile peer into a node", () => {
  async function rawIntoNode() {
    const clock = new FakeClock();
    const rawKeys = generateKeyPair();
    const bob = await startNode({ clock, allowed: [rawKeys.publicKey], cleanup });
    const raw = await RawNoisePeer.dial(bob.address, rawKeys);
    cleanup.add(() => raw.destroy());
    await bob.link.waitFor((e) => e.kind === "connected", "bob to accept the raw peer");
    return { bob, raw, rawKey: rawKeys.publicKey };
  }
  const closeCode = async (bob: Awaited<ReturnType<typeof rawIntoNode>>["bob"]) =>
    (await bob.link.waitFor((e) => e.kind === "disconnected", "bob to close the channel")) as { code: string };

  it("delivers every payload of a packed message once, in order", async () => {
    const { bob, raw } = await rawIntoNode();
    const payloads = numbered(200, 50);
    raw.socket.write(raw.encryptChunk(encodePacked(payloads.flatMap((payload) => splitPayload(payload)))));
    await until(() => bob.link.frames().length === 200, "the 200 payloads");
    expect(bob.link.frames()).toEqual(payloads);
    expect(bob.link.count("disconnected")).toBe(0);
  });

  it("never sends packed messages to a peer that did not announce them", async () => {
    const { bob, raw, rawKey } = await rawIntoNode();
    const payloads = numbered(200);
    // One turn: a packing node would put all of these in one message, which this peer could not read.
    for (const payload of payloads) void bob.node.send(rawKey, payload);
    expect(await raw.waitForPayloads(200)).toEqual(payloads);
    expect(raw.error).toBeUndefined();
  });

  it("refuses a malformed packed message with bad-chunk and delivers none of it", async () => {
    const { bob, raw } = await rawIntoNode();
    const good = encodePacked([Buffer.from([0x00, 1]), Buffer.from([0x00, 2])]);
    raw.socket.write(raw.encryptChunk(Buffer.concat([good, Buffer.from([0x00, 0x09, 0x00])]))); // a torn third chunk
    expect(await closeCode(bob)).toMatchObject({ code: "bad-chunk" });
    expect(bob.link.frames()).toEqual([]);
  });

  it("applies the 1 MiB reassembly cap to chunks inside packed messages", async () => {
    const { bob, raw } = await rawIntoNode();
    // 17 non-final chunks of 65,000 bytes, two per packed message where they fit: 1,105,000 bytes, never finished.
    const more = Buffer.concat([Buffer.from([0x01]), Buffer.alloc(32_000, 7)]);
    const messages = Array.from({ length: 18 }, () => raw.encryptChunk(encodePacked([more, more])));
    raw.socket.write(Buffer.concat(messages));
    expect(await closeCode(bob)).toMatchObject({ code: "reassembly-too-large" });
    expect(bob.link.frames()).toEqual([]);
  });

  it("refuses a control chunk packed between two chunks of one payload (bad-control)", async () => {
    const { bob, raw } = await rawIntoNode();
    raw.socket.write(raw.encryptChunk(encodePacked([Buffer.from([0x01, 1, 2]), Buffer.from([0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.from([0x00, 3])])));
    expect(await closeCode(bob)).toMatchObject({ code: "bad-control" });
    expect(bob.link.frames()).toEqual([]);
  });
});
