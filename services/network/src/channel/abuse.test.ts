import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { generateKeyPair, XXHandshake } from "../noise/index.js";
import { encodeFrame } from "../framing/index.js";
import { MAX_HANDSHAKE_FRAME, PROLOGUE } from "./protocol.js";
import {
  Cleanup,
  cleanupAfterEach,
  RecordingProxy,
  closedOf,
  connectRaw,
  portOf,
  mutateBytes,
  randomBytes,
  randomInt as int,
  seededRandom,
  startNode,
  turn,
  until,
  within,
  type TestNodeHandle,
} from "../testing/index.js";

// A running listener under abuse: oversized headers, garbage, mutated handshakes, truncated
// frames. The node must refuse each one early, count it, and keep serving legitimate peers.

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

async function exchange(alice: TestNodeHandle, bob: TestNodeHandle, via: string, texts: string[]): Promise<void> {
  alice.node.dial(bob.publicKey, [via]);
  await alice.link.waitFor((e) => e.kind === "connected", "alice connected", 0, 10_000);
  await bob.link.waitFor((e) => e.kind === "connected", "bob connected", 0, 10_000);
  for (const text of texts) await alice.node.send(bob.publicKey, Buffer.from(`${text} to bob`));
  for (const text of texts) await bob.node.send(alice.publicKey, Buffer.from(`${text} to alice`));
  await until(() => bob.link.frames().length === texts.length && alice.link.frames().length === texts.length, "the exchange", 20_000);
  expect(bob.link.frames().map(String)).toEqual(texts.map((t) => `${t} to bob`));
  expect(alice.link.frames().map(String)).toEqual(texts.map((t) => `${t} to alice`));
}

describe("oversized and empty frames", () => {
  it.each([MAX_HANDSHAKE_FRAME + 1, 0x8000, 0xffff])(
    "a handshake frame header announcing %i bytes closes the connection as soon as the header is in",
    async (length) => {
      const clock = new FakeClock();
      const bob = await startNode({ clock, cleanup });
      const socket = await connectRaw(bob.address);
      cleanup.add(() => socket.destroy());
      // The first byte alone decides nothing.
      socket.write(Buffer.from([length >> 8]));
      await turn();
      expect(bob.node.status().protocolErrors).toBe(0);
      // The second one does: no body byte is ever sent, and no timer is needed.
      socket.write(Buffer.from([length & 0xff]));
      await within(closedOf(socket), 5_000, "the listener to close the connection");
      expect(socket.bytesWritten).toBe(2);
      await until(() => bob.node.status().protocolErrors === 1, "the error to be counted");
      expect(bob.node.status().handshakeTimeouts).toBe(0);
    },
  );

  it("a zero-length frame closes the connection", async () => {
    const clock = new FakeClock();
    const bob = await startNode({ clock, cleanup });
    const socket = await connectRaw(bob.address);
    cleanup.add(() => socket.destroy());
    socket.write(Buffer.from([0, 0]));
    await within(closedOf(socket), 5_000, "the listener to close the connection");
    await until(() => bob.node.status().protocolErrors === 1, "the error to be counted");
  });
});

describe("10,000 random and mutated inputs", () => {
  // Bounded by count (JARVIS_ABUSE_CASES for a longer run), never by wall time.
  const CASES = Number(process.env.JARVIS_ABUSE_CASES ?? 10_000);
  const CONCURRENCY = 32;
  // What is asserted is counted, never measured: every connection closed by the node, every
  // one counted as a protocol error, no peer entry or Link event left behind for any of them.
  // (Memory figures depend on when the GC runs; they are reported by the flood test instead.)

  it("leave the listener running and answering a legitimate peer, keeping nothing of them", async () => {
    const clock = new FakeClock();
    const aliceKeys = generateKeyPair();
    // All abusers come from 127.0.0.1: let the per-address handshake cap admit the test's concurrency.
    const bob = await startNode({ clock, allowed: [aliceKeys.publicKey], handshakeLimits: { pendingPerAddress: CONCURRENCY * 2 }, cleanup });
    const alice = await startNode({ clock, keys: aliceKeys, allowed: [bob.publicKey], cleanup });
    const transcript = await recordedInitiatorBytes();
    const random = seededRandom(0x5eed_1234);
    const inputs = (index: number) => abusiveInput(random, transcript, index);

    let next = 0;
    let done = 0;
    const worker = async (limit: number) => {
      while (next < limit) {
        const bytes = inputs(next++);
        await sendAndClose(bob.address, bytes);
        done++;
        // Cancelled timers accumulate in the FakeClock until it next runs; let it sweep them.
        if (done % 1_000 === 0) clock.advance(0);
      }
    };
    await within(Promise.all(Array.from({ length: CONCURRENCY }, () => worker(CASES))), 70_000, "all abusive connections");
    expect(done).toBe(CASES);
    // Every single connection was refused and counted; none was mistaken for a peer.
    await until(() => bob.node.status().protocolErrors === CASES, `${CASES} protocol errors`, 10_000);
    expect(bob.node.status()).toMatchObject({ rejectedPeers: 0, handshakeTimeouts: 0, protocolErrors: CASES });
    expect(bob.link.events).toEqual([]);
    expect(bob.node.listPeers()).toEqual([]);

    // The same listener still serves a real peer.
    await exchange(alice, bob, bob.address, ["still here"]);
  });
});

describe("a legitimate peer, one byte at a time", () => {
  it("completes the handshake and exchanges messages when every byte arrives on its own", async () => {
    const clock = new FakeClock();
    const aliceKeys = generateKeyPair();
    const bob = await startNode({ clock, allowed: [aliceKeys.publicKey], cleanup });
    const alice = await startNode({ clock, keys: aliceKeys, allowed: [bob.publicKey], cleanup });
    const proxy = await RecordingProxy.start({ target: bob.address, byteAtATime: true }, cleanup);
    await exchange(alice, bob, proxy.address, ["one", "two", "x".repeat(300)]);
    const aliceStats = alice.node.listPeers()[0]?.stats;
    const bobStats = bob.node.listPeers()[0]?.stats;
    expect(aliceStats?.bytesSent).toBe(bobStats?.bytesReceived);
    expect(bobStats?.bytesSent).toBe(aliceStats?.bytesReceived);
    expect(bob.node.status().protocolErrors).toBe(0);
  });
});

/** Writes the bytes, half-closes, and resolves when the node has closed its side too. */
function sendAndClose(address: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: portOf(address) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection not closed by the node (input of ${bytes.length} bytes)`));
    }, 10_000);
    socket.on("error", () => {}); // resets are a normal outcome here
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume(); // read and ignore whatever the node answers
    socket.once("connect", () => socket.end(bytes));
  });
}

/** What a genuine initiator sends on a whole session: "-> e", "-> s, se", then two transport frames. */
async function recordedInitiatorBytes(): Promise<Buffer> {
  const clock = new FakeClock();
  const aliceKeys = generateKeyPair();
  const bob = await startNode({ clock, allowed: [aliceKeys.publicKey], cleanup });
  const alice = await startNode({ clock, keys: aliceKeys, allowed: [bob.publicKey], cleanup });
  const proxy = await RecordingProxy.start({ target: bob.address }, cleanup);
  await exchange(alice, bob, proxy.address, ["recorded"]);
  await alice.node.send(bob.publicKey, Buffer.alloc(200, 1));
  await until(() => bob.link.frames().length === 2, "the recorded payloads");
  const bytes = proxy.upBytes(0);
  await Promise.all([alice.node.close(), bob.node.close(), proxy.close()]);
  return bytes;
}

/**
 * One abusive connection's bytes. Kinds, in turn: pure garbage; well-framed random handshake
 * messages; a genuine "-> e" followed by a garbage "-> s, se" of the right size; a recorded
 * genuine session with a few bytes flipped, inserted or deleted; an oversized header; a frame
 * cut short; empty frames.
 */
function abusiveInput(random: () => number, transcript: Buffer, index: number): Buffer {
  switch (index % 7) {
    case 0:
      return randomBytes(random, int(random, 1, 2_048));
    case 1:
      return Buffer.concat([encodeFrame(randomBytes(random, int(random, 1, MAX_HANDSHAKE_FRAME))), encodeFrame(randomBytes(random, int(random, 1, MAX_HANDSHAKE_FRAME)))]);
    case 2: {
      const handshake = new XXHandshake({ initiator: true, staticKeyPair: generateKeyPairCached(), prologue: PROLOGUE });
      const message1 = handshake.writeMessage(Buffer.alloc(0));
      handshake.destroy();
      return Buffer.concat([encodeFrame(message1), encodeFrame(randomBytes(random, 64))]);
    }
    case 3:
      return mutateBytes(random, transcript);
    case 4: {
      const header = Buffer.alloc(2);
      header.writeUInt16BE(int(random, MAX_HANDSHAKE_FRAME + 1, 0xffff));
      return Buffer.concat([header, randomBytes(random, int(random, 0, 512))]);
    }
    case 5: {
      const header = Buffer.alloc(2);
      const length = int(random, 2, MAX_HANDSHAKE_FRAME);
      header.writeUInt16BE(length);
      return Buffer.concat([header, randomBytes(random, int(random, 0, length - 1))]);
    }
    default:
      return Buffer.alloc(2 * int(random, 1, 4));
  }
}

let cachedKeys: ReturnType<typeof generateKeyPair> | undefined;
function generateKeyPairCached() {
  cachedKeys ??= generateKeyPair();
  return cachedKeys;
}
