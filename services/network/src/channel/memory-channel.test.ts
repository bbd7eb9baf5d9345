import { createHash, randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ControlMessage } from "../framing/control.js";
import { MAX_CHUNK_DATA } from "../framing/chunking.js";
import { errorCode } from "../errors.js";
import { MAX_HANDSHAKE_FRAME, MAX_PAYLOAD_BYTES } from "./protocol.js";
import { FramedSocket } from "./framed-socket.js";
import type { SecureChannel } from "./secure-channel.js";
import { duplexPair, secureChannelPair, turn, until, type ChannelPair } from "../testing/index.js";

// FramedSocket and SecureChannel over an in-memory Duplex pair (after a real Noise handshake):
// the channel's own behaviour, with no TCP timing in the way.

const opened: ChannelPair[] = [];
afterEach(() => {
  for (const pair of opened.splice(0)) for (const stream of pair.streams) stream.destroy();
});

/** What one channel's hooks saw, in order. */
function record(channel: SecureChannel, onPayload?: (payload: Buffer, count: number) => void) {
  const seen = { payloads: [] as Buffer[], controls: [] as ControlMessage[], closed: [] as Error[] };
  channel.start({
    onPayload: (payload) => {
      seen.payloads.push(payload);
      onPayload?.(payload, seen.payloads.length);
    },
    onControl: (message) => seen.controls.push(message),
    onClose: (error) => seen.closed.push(error),
  });
  return seen;
}

/** Buffers compared by digest: deep equality over a megabyte, byte by byte, takes seconds. */
const digests = (buffers: Buffer[]) => buffers.map((buffer) => `${buffer.length}:${createHash("sha256").update(buffer).digest("hex")}`);

async function pair(options: Parameters<typeof secureChannelPair>[0] = {}): Promise<ChannelPair> {
  const channels = await secureChannelPair(options);
  opened.push(channels);
  return channels;
}

describe("FramedSocket over an in-memory pair", () => {
  it("delivers frames whole and in order, whatever their size", async () => {
    const [left, right] = duplexPair();
    const sender = new FramedSocket(left, 65_535);
    const receiver = new FramedSocket(right, 65_535);
    const frames = [1, 2, 1_000, 65_535, 7].map((size) => randomBytes(size));
    const got: Buffer[] = [];
    receiver.onFrame((frame) => got.push(frame));
    for (const frame of frames) sender.writeFrame(frame);
    await until(() => got.length === frames.length, "every frame");
    expect(digests(got)).toEqual(digests(frames));
    sender.destroy(new Error("done"));
    await receiver.whenClosed();
  });

  it("rejects a header announcing more than the limit on the header alone, before allocating the body", async () => {
    const [left, right] = duplexPair();
    const receiver = new FramedSocket(right, MAX_HANDSHAKE_FRAME);
    const allocations = vi.spyOn(Buffer, "allocUnsafe");
    try {
      const next = receiver.nextFrame();
      left.write(Buffer.from([0xff, 0xff])); // 65535 announced, no body follows
      const error = await next.then(() => undefined, (e: unknown) => e);
      expect(errorCode(error)).toBe("frame-error");
      expect(allocations).not.toHaveBeenCalledWith(0xffff);
    } finally {
      allocations.mockRestore();
    }
    expect(receiver.closed).toBe(true);
    await receiver.whenClosed();
    expect(right.destroyed).toBe(true);
  });
});

describe("SecureChannel over an in-memory pair", () => {
  it("round-trips payloads of one chunk and of many, up to the 1 MiB cap", async () => {
    const { a, b } = await pair();
    const seen = record(b);
    record(a);
    const sizes = [1, 100, MAX_CHUNK_DATA, MAX_CHUNK_DATA + 1, 3 * MAX_CHUNK_DATA + 5, MAX_PAYLOAD_BYTES];
    const payloads = sizes.map((size) => randomBytes(size));
    const written: (Error | undefined)[] = [];
    for (const payload of payloads) a.send(payload, (error) => written.push(error));
    await until(() => seen.payloads.length === payloads.length && written.length === payloads.length, "every payload");
    expect(digests(seen.payloads)).toEqual(digests(payloads));
    expect(written).toEqual(payloads.map(() => undefined));
    expect(b.messagesReceived).toBe(payloads.length);
    expect(seen.closed).toEqual([]);
  });

  it("refuses a payload over the cap and writes nothing", async () => {
    const { a } = await pair();
    record(a);
    const before = a.framed.bytesSent;
    expect(() => a.send(Buffer.alloc(MAX_PAYLOAD_BYTES + 1))).toThrow(expect.objectContaining({ code: "payload-too-large" }));
    expect(a.framed.bytesSent).toBe(before);
    expect(a.closed).toBe(false);
  });

  it("hands control chunks to onControl, never to the payload consumer", async () => {
    const { a, b } = await pair();
    const seen = record(b);
    record(a);
    const first = Buffer.from("first");
    const second = randomBytes(2 * MAX_CHUNK_DATA + 1);
    a.send(first);
    a.sendControl({ kind: "ping", nonce: 42n });
    a.send(second);
    a.sendControl({ kind: "pong", nonce: 42n });
    a.sendControl({ kind: "goodbye", reason: "goodbye" });
    await until(() => seen.controls.length === 3, "the three control chunks");
    expect(digests(seen.payloads)).toEqual(digests([first, second]));
    expect(seen.controls).toEqual([{ kind: "ping", nonce: 42n }, { kind: "pong", nonce: 42n }, { kind: "goodbye" }]);
    expect(b.messagesReceived).toBe(2);
  });

  it("closes with decrypt-failed when a frame is tampered with in transit, delivering nothing of it", async () => {
    let tamper = false;
    const { a, b } = await pair({
      tapAtoB: (chunk) => {
        if (!tamper) return chunk;
        const copy = Buffer.from(chunk);
        copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0x01; // the last byte of the AEAD tag
        return copy;
      },
    });
    const seen = record(b);
    const seenByA = record(a);
    a.send(Buffer.from("intact"));
    await until(() => seen.payloads.length === 1, "the intact payload");
    tamper = true;
    a.send(Buffer.from("tampered"));
    await until(() => seen.closed.length === 1, "the receiver to close");
    expect(errorCode(seen.closed[0])).toBe("decrypt-failed");
    expect(seen.payloads).toEqual([Buffer.from("intact")]);
    // The sender sees the connection go.
    await until(() => seenByA.closed.length === 1, "the sender to see the close");
  });

  it("pauses the source at a frame boundary while the consumer is paused, and loses nothing on resume", async () => {
    const { a, b } = await pair();
    // Payloads carry their index. Sizes cycle through one spanning two frames, two small ones
    // (several frames in one 4 KiB segment) and a middling one. The pause comes after the first
    // small one: the next whole frame is already in the same segment and must be held back.
    const pauseAfter = 2;
    const sizes = [MAX_CHUNK_DATA + 1_000, 100, 100, 30_000];
    const payloads = Array.from({ length: 100 }, (_, i) => {
      const payload = randomBytes(sizes[i % sizes.length] as number);
      payload.writeUInt32BE(i, 0);
      return payload;
    });
    const seen = record(b, (_payload, count) => {
      if (count === pauseAfter) b.pauseReading();
    });
    record(a);
    const written: (Error | undefined)[] = [];
    for (const payload of payloads) a.send(payload, (error) => written.push(error));
    await until(() => seen.payloads.length === pauseAfter, "the payloads before the pause");
    // Bounded by turns of the event loop, not by time: the pause must hold through all of them.
    for (let i = 0; i < 50; i++) await turn();
    expect(seen.payloads.length).toBe(pauseAfter);
    expect(b.framed.stream.isPaused()).toBe(true);
    // Backpressure reached the sender: most of what it wrote is still waiting to be written.
    expect(a.framed.unwrittenBytes).toBeGreaterThan(1_000_000);
    expect(written.length).toBeLessThan(payloads.length / 2);

    b.resumeReading();
    await until(() => seen.payloads.length === payloads.length && written.length === payloads.length, "every payload after the resume");
    expect(seen.payloads.map((p) => p.readUInt32BE(0))).toEqual(payloads.map((_, i) => i));
    expect(digests(seen.payloads)).toEqual(digests(payloads));
    expect(written.every((error) => error === undefined)).toBe(true);
    expect(a.framed.unwrittenBytes).toBe(0);
  });
});
