import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { FakeClock } from "@jarvis/core";
import { EnvelopeSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { generateKeyPair, dh, type KeyPair } from "../noise/index.js";
import { PROTOCOL_NAME } from "../noise/handshake.js";
import { SymmetricState } from "../noise/symmetric-state.js";
import { encodeFrame } from "../framing/index.js";
import { PROLOGUE } from "./protocol.js";
import {
  Cleanup,
  cleanupAfterEach,
  FrameTracker,
  RawNoisePeer,
  RecordingProxy,
  closeServer,

  connectRaw,
  listenOn,
  startNode,
  until,
  within,
  type TestNodeHandle,
} from "../testing/index.js";

// What an attacker on the wire, or with only public knowledge, can and cannot do to a channel.
// Real sockets on 127.0.0.1, every timer on a FakeClock that is never advanced here (so no
// keepalive, redial or timeout ever interferes).

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

/**
 * Each side's first transport message is its features announcement (docs/protocol.md §4): a
 * 3-byte control chunk, so frame 2 upstream and frame 1 downstream; payloads follow it.
 */
const FEATURES_FRAME_BYTES = 2 + 3 + 16;
const FIRST_PAYLOAD_FRAME_UP = 3;
const FIRST_PAYLOAD_FRAME_DOWN = 2;

/** Sends one at a time, each delivered before the next, so that no two share a packed message. */
async function sendApart(from: TestNodeHandle, to: TestNodeHandle, texts: string[]): Promise<void> {
  for (const text of texts) {
    const mark = to.link.frames().length;
    await from.node.send(to.publicKey, Buffer.from(text));
    await until(() => to.link.frames().length === mark + 1, `"${text}" to arrive`);
  }
}

async function pair(clock: FakeClock) {
  const aliceKeys = generateKeyPair();
  const bobKeys = generateKeyPair();
  const bob = await startNode({ clock, keys: bobKeys, allowed: [aliceKeys.publicKey], cleanup });
  const alice = await startNode({ clock, keys: aliceKeys, allowed: [bobKeys.publicKey], cleanup });
  return { alice, bob };
}

async function connectVia(alice: TestNodeHandle, bob: TestNodeHandle, address: string): Promise<void> {
  alice.node.dial(bob.publicKey, [address]);
  await alice.link.waitFor((e) => e.kind === "connected" && e.publicKey.equals(bob.publicKey), "alice connected");
  await bob.link.waitFor((e) => e.kind === "connected" && e.publicKey.equals(alice.publicKey), "bob connected");
}

function chatEnvelope(text: string): Uint8Array {
  return toBinary(
    EnvelopeSchema,
    create(EnvelopeSchema, { body: { case: "chatMessage", value: { messageId: "0".repeat(32), sequence: 1n, sentAtMs: 1n, text } } }),
  );
}

/** Every way the text could show up if it leaked: UTF-8, UTF-16LE, hex in both cases, base64 at all three alignments. */
function leakForms(text: string): Buffer[] {
  const utf8 = Buffer.from(text, "utf8");
  const forms = [utf8, Buffer.from(text, "utf16le"), Buffer.from(utf8.toString("hex")), Buffer.from(utf8.toString("hex").toUpperCase())];
  for (let shift = 0; shift < 3; shift++) {
    for (const encoding of ["base64", "base64url"] as const) {
      // Whole 4-character groups that depend only on the text, whatever precedes it.
      const encoded = Buffer.concat([Buffer.alloc(shift), utf8]).toString(encoding);
      const start = shift === 0 ? 0 : 4;
      const end = Math.floor(((shift + utf8.length) / 3)) * 4;
      forms.push(Buffer.from(encoded.slice(start, end)));
    }
  }
  return forms;
}

function leaks(haystack: Buffer, text: string): string[] {
  return leakForms(text)
    .filter((form) => haystack.includes(form))
    .map((form) => form.toString("latin1").slice(0, 24));
}

describe("confidentiality on the wire", () => {
  it("a recording proxy sees none of the message text, in any common encoding", async () => {
    const clock = new FakeClock();
    const { alice, bob } = await pair(clock);
    const proxy = await RecordingProxy.start({ target: bob.address }, cleanup);
    await connectVia(alice, bob, proxy.address);

    const secret = "Meet me at the old mill at 23:45, bring the key. secret-7f3a9c";
    const toBob = chatEnvelope(secret);
    const toAlice = Buffer.from(`re: ${secret}`, "utf8");
    await alice.node.send(bob.publicKey, toBob);
    await bob.node.send(alice.publicKey, toAlice);
    await bob.link.waitFor((e) => e.kind === "frame", "bob to get the message");
    await alice.link.waitFor((e) => e.kind === "frame", "alice to get the reply");
    expect(bob.link.frames(alice.publicKey)).toEqual([Buffer.from(toBob)]);
    expect(alice.link.frames(bob.publicKey)).toEqual([toAlice]);

    const captured = proxy.allBytes();
    // Everything went through the proxy: handshake (34 + 98 + 66) plus the two messages.
    expect(captured.length).toBeGreaterThan(198 + toBob.length + toAlice.length);
    // The search itself works: it finds every form in a buffer that does contain them.
    for (const form of leakForms(secret)) expect(Buffer.concat([Buffer.from("xx"), form, Buffer.from("yy")]).includes(form)).toBe(true);
    expect(leaks(Buffer.concat([Buffer.from("ab"), Buffer.from(secret)]), secret).length).toBeGreaterThan(0);

    expect(leaks(captured, secret)).toEqual([]);
    expect(leaks(captured, "secret-7f3a9c")).toEqual([]);
    expect(leaks(captured, "old mill")).toEqual([]);
  });
});

describe("authentication", () => {
  it("an attacker at bob's address with its own key: alice refuses before revealing hers; no channel", async () => {
    const clock = new FakeClock();
    const { alice, bob } = await pair(clock);
    const attackerKeys = generateKeyPair();
    const received: Buffer[] = [];
    const accepted = new Set<Socket>();
    const attempts: Promise<unknown>[] = [];
    const attacker = createServer((socket) => {
      accepted.add(socket);
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      attempts.push(RawNoisePeer.accept(socket, attackerKeys).catch((error: unknown) => error));
    });
    const address = await listenOn(attacker);
    cleanup.add(() => closeServer(attacker, accepted));

    alice.node.dial(bob.publicKey, [address]);
    const peer = () => alice.node.listPeers()[0];
    await until(() => peer()?.stats.connectFailures === 1, "alice's dial to fail");
    expect(peer()).toMatchObject({ state: "disconnected", stats: { connectSuccesses: 0, lastErrorCode: "unexpected-key" } });
    expect(alice.link.count("connected")).toBe(0);
    // The attacker's handshake never completes and it got nothing but alice's first message (-> e).
    const [outcome] = await within(Promise.all(attempts), 5_000, "the attacker's handshake to end");
    expect(outcome).toBeInstanceOf(Error);
    expect(Buffer.concat(received).length).toBe(2 + 32);
  });

  // The control case (the attacker claims its own key) shows the forged message is well formed:
  // there the handshake completes and only the key check refuses it.
  it.each([
    ["bob's public key", "handshake-failed"],
    ["its own public key (control)", "unexpected-key"],
  ])("an attacker that claims %s without bob's private key gets no channel (%s)", async (claim, code) => {
    const clock = new FakeClock();
    const { alice, bob } = await pair(clock);
    const attackerKeys = generateKeyPair();
    const received: Buffer[] = [];
    const accepted = new Set<Socket>();
    const attacker = createServer((socket) => {
      accepted.add(socket);
      socket.on("error", () => {});
      let buffered = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        received.push(chunk);
        buffered = Buffer.concat([buffered, chunk]);
        const claimed = claim.startsWith("bob") ? bob.publicKey : attackerKeys.publicKey;
        if (buffered.length === 2 + 32) socket.write(encodeFrame(impersonatingMessage2(buffered.subarray(2), claimed, attackerKeys)));
      });
    });
    const address = await listenOn(attacker);
    cleanup.add(() => closeServer(attacker, accepted));

    alice.node.dial(bob.publicKey, [address]);
    const peer = () => alice.node.listPeers()[0];
    await until(() => peer()?.stats.connectFailures === 1, "alice's dial to fail");
    expect(peer()).toMatchObject({ state: "disconnected", stats: { connectSuccesses: 0, lastErrorCode: code } });
    expect(alice.link.count("connected")).toBe(0);
    await until(() => [...accepted].every((s) => s.destroyed || s.readableEnded), "alice to hang up");
    expect(Buffer.concat(received).length).toBe(2 + 32);
  });

  it("a key that is not an allowed contact is dropped right after the handshake; what it sends is never delivered", async () => {
    const clock = new FakeClock();
    const { bob } = await pair(clock);
    const mallory = await RawNoisePeer.dial(bob.address, generateKeyPair());
    cleanup.add(() => mallory.destroy());
    // Sent back to back with the last handshake message, before bob has decided anything.
    mallory.send(chatEnvelope("let me in"));
    expect(mallory.remoteKey.equals(bob.publicKey)).toBe(true);
    await within(mallory.closed, 5_000, "bob to drop mallory");
    await until(() => bob.node.status().rejectedPeers === 1, "the rejection to be counted");
    expect(bob.node.status()).toMatchObject({ rejectedPeers: 1, protocolErrors: 0 });
    expect(bob.link.events).toEqual([]);
    expect(bob.node.listPeers()).toEqual([]);
    // Mallory never got a transport message back.
    expect(mallory.payloads).toEqual([]);
  });

  it("replaying a recorded client session in a new connection establishes nothing and delivers nothing", async () => {
    const clock = new FakeClock();
    const { alice, bob } = await pair(clock);
    const proxy = await RecordingProxy.start({ target: bob.address }, cleanup);
    await connectVia(alice, bob, proxy.address);
    await sendApart(alice, bob, ["first", "second", "third"]);
    const recorded = proxy.upBytes(0);
    const originalReply = Buffer.concat(proxy.connections[0]?.down ?? []).subarray(0, 2 + 96);
    expect(recorded.length).toBe(34 + 66 + FEATURES_FRAME_BYTES + 3 * (2 + 1 + 16) + "firstsecondthird".length);

    const mark = bob.link.events.length;
    const replay = RawNoisePeer.wrap(await connectRaw(bob.address));
    cleanup.add(() => replay.destroy());
    const reply = replay.nextFrame();
    replay.socket.write(recorded);
    // Bob answers the replayed "-> e" with a fresh ephemeral, so the recorded "-> s, se" cannot match.
    const replyFrame = await reply;
    expect(replyFrame.length).toBe(96);
    expect(replyFrame.equals(originalReply.subarray(2))).toBe(false);
    await within(replay.closed, 5_000, "bob to hang up on the replay");
    await until(() => bob.node.status().protocolErrors === 1, "the failed handshake to be counted");
    expect(bob.link.events.slice(mark)).toEqual([]);
    expect(bob.link.frames()).toHaveLength(3);
    // The genuine channel is untouched.
    expect(bob.node.listPeers()[0]?.state).toBe("connected");
  });
});

describe("integrity", () => {
  const text = "flip me: the quick brown fox";

  it("flipping any byte of a transport frame closes the channel with decrypt-failed and delivers nothing from it", async () => {
    const frameLength = 1 + text.length + 16; // flag, data, tag
    for (let position = 0; position < frameLength; position++) {
      const clock = new FakeClock();
      const { alice, bob } = await pair(clock);
      const proxy = await RecordingProxy.start({ target: bob.address, upstream: flipper(FIRST_PAYLOAD_FRAME_UP, position) }, cleanup);
      await connectVia(alice, bob, proxy.address);
      await alice.node.send(bob.publicKey, Buffer.from(text));
      const closed = await bob.link.waitFor((e) => e.kind === "disconnected", `bob to close the channel (byte ${position})`);
      expect({ position, closed }).toMatchObject({ position, closed: { code: "decrypt-failed" } });
      expect(bob.link.frames()).toEqual([]);
      expect(bob.node.status().protocolErrors).toBe(1);
      expect(bob.node.listPeers()[0]?.stats.lastErrorCode).toBe("decrypt-failed");
      expect(proxy.upBytes(0).length).toBe(34 + 66 + FEATURES_FRAME_BYTES + 2 + frameLength);
      await cleanup.run();
    }
  });

  it("a flipped byte in a later frame: earlier payloads arrive, the tampered one and everything after do not", async () => {
    for (const position of [0, 14, 1 + text.length + 15]) {
      const clock = new FakeClock();
      const { alice, bob } = await pair(clock);
      const proxy = await RecordingProxy.start({ target: bob.address, upstream: flipper(FIRST_PAYLOAD_FRAME_UP + 1, position) }, cleanup);
      await connectVia(alice, bob, proxy.address);
      await sendApart(alice, bob, ["untouched"]);
      // The tampered frame holds the text, and "after" too if alice packs them together.
      await alice.node.send(bob.publicKey, Buffer.from(text));
      await alice.node.send(bob.publicKey, Buffer.from("after"));
      const closed = await bob.link.waitFor((e) => e.kind === "disconnected", "bob to close the channel");
      expect(closed).toMatchObject({ code: "decrypt-failed" });
      expect(bob.link.frames().map(String)).toEqual(["untouched"]);
      await cleanup.run();
    }
  });

  it("tampering bob → alice is caught by alice the same way", async () => {
    const clock = new FakeClock();
    const { alice, bob } = await pair(clock);
    // Downstream frames: 0 is "<- e, ee, s, es", 1 bob's features, 2 the payload.
    const proxy = await RecordingProxy.start({ target: bob.address, downstream: flipper(FIRST_PAYLOAD_FRAME_DOWN, 5) }, cleanup);
    await connectVia(alice, bob, proxy.address);
    const mark = alice.link.events.length;
    await bob.node.send(alice.publicKey, Buffer.from(text));
    const closed = await alice.link.waitFor((e) => e.kind === "disconnected", "alice to close the channel", mark);
    expect(closed).toMatchObject({ code: "decrypt-failed" });
    expect(alice.link.frames()).toEqual([]);
  });
});

/** A proxy transform that flips every bit of one byte (offset `position` of the body) of frame `frameIndex`. */
function flipper(frameIndex: number, position: number) {
  const trackers = new Map<number, FrameTracker>();
  return (chunk: Buffer, connection: number): Buffer => {
    const tracker = trackers.get(connection) ?? new FrameTracker();
    trackers.set(connection, tracker);
    const out = Buffer.from(chunk);
    tracker.walk(chunk, (frame, offset, index) => {
      if (frame === frameIndex && offset === 2 + position) out[index] = (out[index] as number) ^ 0xff;
    });
    return out;
  };
}

/**
 * "<- e, ee, s, es" written by someone who puts bob's public key in the `s` field but can only
 * compute `es` with its own private key, which is all an impersonator without bob's key can do.
 */
function impersonatingMessage2(message1: Buffer, claimedStatic: Buffer, attacker: KeyPair): Buffer {
  const symmetric = new SymmetricState(PROTOCOL_NAME);
  symmetric.mixHash(PROLOGUE);
  const remoteEphemeral = message1.subarray(0, 32);
  symmetric.mixHash(remoteEphemeral);
  symmetric.decryptAndHash(message1.subarray(32));
  const ephemeral = generateKeyPair();
  symmetric.mixHash(ephemeral.publicKey);
  symmetric.mixKey(dh(ephemeral.privateKey, remoteEphemeral));
  const sealedStatic = symmetric.encryptAndHash(claimedStatic);
  symmetric.mixKey(dh(attacker.privateKey, remoteEphemeral));
  const payload = symmetric.encryptAndHash(Buffer.alloc(0));
  return Buffer.concat([ephemeral.publicKey, sealedStatic, payload]);
}


