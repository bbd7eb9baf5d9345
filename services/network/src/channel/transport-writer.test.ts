import { describe, expect, it } from "vitest";
import { CipherState } from "../noise/index.js";
import { FrameDecoder } from "../framing/index.js";
import { errorCode } from "../errors.js";
import { duplexPair, until } from "../testing/index.js";
import { FramedSocket } from "./framed-socket.js";
import { TransportWriter } from "./transport-writer.js";

const KEY = Buffer.alloc(32, 5);

function writerOverMemory() {
  const [near, far] = duplexPair();
  const framed = new FramedSocket(near, 65535);
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder();
  far.on("data", (chunk: Buffer) => frames.push(...decoder.push(chunk)));
  const closed: Error[] = [];
  framed.onClose((error) => closed.push(error));
  return { framed, frames, closed, near, far };
}

describe("TransportWriter", () => {
  it("seals chunks in queue order, one nonce each, and reports each written", async () => {
    const { framed, frames, near, far } = writerOverMemory();
    const writer = new TransportWriter(framed, new CipherState(KEY));
    const written: (Error | undefined)[] = [];
    for (let i = 0; i < 5; i++) writer.enqueue(Buffer.from([0x00, i]), (error) => written.push(error));
    await until(() => written.length === 5, "five written reports");
    const receive = new CipherState(KEY);
    expect(frames.map((frame) => receive.decryptWithAd(Buffer.alloc(0), frame))).toEqual([0, 1, 2, 3, 4].map((i) => Buffer.from([0x00, i])));
    expect(written).toEqual([undefined, undefined, undefined, undefined, undefined]);
    near.destroy();
    far.destroy();
  });

  it("closes the channel with nonce-exhausted when sealing fails at the end of a turn, failing what was not sent", async () => {
    const { framed, frames, closed, near, far } = writerOverMemory();
    const cipher = new CipherState(KEY);
    cipher.setNonce(2n ** 64n - 3n); // two messages left before the reserved nonce
    const writer = new TransportWriter(framed, cipher);
    const written: (Error | undefined)[] = [];
    for (let i = 0; i < 4; i++) writer.enqueue(Buffer.from([0x00, i]), (error) => written.push(error));
    await until(() => written.length === 4 && closed.length === 1, "every report and the close");
    expect(errorCode(closed[0])).toBe("nonce-exhausted");
    // The first two were sealed and handed to the stream; the last two never were.
    expect(written.slice(2).map(errorCode)).toEqual(["channel-closed", "channel-closed"]);
    expect(frames.length).toBeLessThanOrEqual(2);
    near.destroy();
    far.destroy();
  });
});
