import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Presence } from "@jarvis/proto/jarvis/session/v1/resources";
import { eventually } from "../helpers/cli.js";
import { messageText, sendExactlyOnce, type SendTally } from "./faults-exchange.js";
import { faketimeUnavailable, skewedClockEnv } from "./faults-faketime.js";
import { split, wholeConversation } from "./faults-history.js";
import { ProbeDir } from "./faults-metrics.js";
import { peerOf, startLinkedPair, type PairSide } from "./faults-pair.js";
import { expectAllRead, expectConverged } from "./faults-verify.js";
import { scaled, soak } from "./scale.js";

const HOUR = 3_600_000;
/** Short keepalive (documented settings, services/network/config.ts) so that many pings cross the skew. */
const KEEPALIVE = { JARVIS_KEEPALIVE_MS: "300", JARVIS_IDLE_TIMEOUT_MS: "1200" };
/** Ping-pong rounds (each waits for the other side), then a burst both sides send at once. */
const ROUNDS = scaled(6, 40);
const BURST = scaled(30, 500);
/** Idle keepalive rounds the channel must survive: bytes must keep arriving this many times. */
const KEEPALIVE_ROUNDS = scaled(5, 30);

/**
 * Issue 20, clock: bob's node runs with its wall clock hours off (libfaketime preloaded into
 * `jarvis up`, so into his supervisor and services). The two still talk: the Noise channel and
 * keepalives do not break on the skew, messages are ordered by each sender's sequence and by
 * arrival — never by the sender's claimed wall time — and delivery and read states converge.
 */
const unavailable = faketimeUnavailable();
if (unavailable) console.warn(`clock-skew test skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined).each(soak ? ["-6h", "+11h", "-30h"] : ["-6h", "+5h"])(`a peer whose clock is %s off${unavailable ? ` — skipped: ${unavailable}` : ""}`, (offset) => {
  const skewMs = (offset.startsWith("-") ? -1 : 1) * Number(offset.slice(1, -1)) * HOUR;
  const probe = new ProbeDir();
  let alice: PairSide;
  let bob: PairSide;

  beforeAll(async () => {
    ({ alice, bob } = await startLinkedPair({ alice: { ...KEEPALIVE, ...probe.env }, bob: { ...KEEPALIVE, ...probe.env, ...skewedClockEnv(offset) } }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([alice?.node.destroy(), bob?.node.destroy()]);
    probe.remove();
  }, 60_000);

  it("still exchanges messages, ordered by sequence and arrival, not wall time; states converge to read", async () => {
    const started = Date.now();
    const texts = { alice: [] as string[], bob: [] as string[] };
    const tally: SendTally = { sent: 0, storedDespiteError: 0, resent: 0 };
    const send = async (from: PairSide, to: PairSide) => {
      const mine = texts[from.node.name as "alice" | "bob"];
      const text = messageText(from.node.name, mine.length + 1);
      mine.push(text);
      await sendExactlyOnce(from.session, to.uid, text, tally);
      return text;
    };
    const received = (side: PairSide, other: PairSide, text: string) =>
      eventually(async () => (split(await side.session.call((c) => wholeConversation(c, other.uid))).incoming.some((m) => m.text === text) ? true : undefined), 60_000, `${side.node.name} to receive "${text}"`);

    // Ping-pong: each message answers the one before, so arrival order is the conversation's order.
    for (let round = 0; round < ROUNDS; round++) {
      await received(bob, alice, await send(alice, bob));
      await received(alice, bob, await send(bob, alice));
    }
    // The skew is real: bob's messages claim a time `offset` away from when alice stored them.
    const aliceView = split(await alice.session.call((c) => wholeConversation(c, bob.uid)));
    for (const m of aliceView.incoming) {
      const claimedSkew = timestampMs(m.sentTime!) - timestampMs(m.receivedTime!);
      expect(Math.abs(claimedSkew - skewMs), `${m.text}: claimed ${claimedSkew} ms off, expected about ${skewMs}`).toBeLessThan(10 * 60_000);
    }
    // Alice's history is in conversation order (a1 b1 a2 b2 …) although bob's claimed times
    // put all his messages ${offset} away — ordering by wall time would separate the two senders.
    const whole = await alice.session.call((c) => wholeConversation(c, bob.uid));
    const pingPong = texts.alice.flatMap((a, i) => [a, texts.bob[i]!]);
    expect(whole.map((m) => m.text)).toEqual(pingPong);
    const byClaimedTime = [...whole].sort((x, y) => timestampMs(x.sentTime!) - timestampMs(y.sentTime!)).map((m) => m.text);
    expect(byClaimedTime).not.toEqual(pingPong);

    // A burst from both sides at once, each in its sender's order.
    await Promise.all([
      (async () => {
        for (let i = 0; i < BURST; i++) await send(alice, bob);
      })(),
      (async () => {
        for (let i = 0; i < BURST; i++) await send(bob, alice);
      })(),
    ]);

    // Keepalives cross the skew for many rounds without the channel dropping: the peer's bytes
    // keep arriving, the connection count stays put, and the RTT (measured on each node's own
    // clock) stays sane.
    const before = await Promise.all([peerOf(alice, bob), peerOf(bob, alice)]);
    for (let round = 0; round < KEEPALIVE_ROUNDS; round++) {
      const seen = await Promise.all([peerOf(alice, bob), peerOf(bob, alice)]);
      await eventually(
        async () => {
          const now = await Promise.all([peerOf(alice, bob), peerOf(bob, alice)]);
          return now.every((p, i) => p!.stats!.bytesReceived > seen[i]!.stats!.bytesReceived) ? true : undefined;
        },
        30_000,
        "keepalive traffic both ways",
      );
    }
    const after = await Promise.all([peerOf(alice, bob), peerOf(bob, alice)]);
    for (const [i, peer] of after.entries()) {
      expect(peer!.presence).toBe(Presence.GREEN);
      expect(peer!.stats!.connectSuccesses, "the channel was never re-established").toBe(before[i]!.stats!.connectSuccesses);
      expect(peer!.stats!.rttMs).toBeLessThan(10_000);
    }

    const outcome = await expectConverged(alice, bob, texts.alice, texts.bob);
    console.log(
      `[clock ${offset}] report ${JSON.stringify({ messages: texts.alice.length + texts.bob.length, sends: tally, ...outcome, rttMs: after.map((p) => p!.stats!.rttMs), durationMs: Date.now() - started, processes: probe.figures({ [alice.node.home]: "alice", [bob.node.home]: "bob" }) })}`,
    );
    await expectAllRead(alice, bob, texts.alice.length, texts.bob.length);
  }, scaled(180_000, 24 * 3_600_000));
});
