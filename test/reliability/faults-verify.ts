import { expect } from "vitest";
import { MessageState } from "@jarvis/proto/jarvis/session/v1/resources";
import { eventually } from "../helpers/cli.js";
import type { ResilientSession } from "./faults-exchange.js";
import { lostAndDuplicated, split, waitForOutgoing, wholeConversation } from "./faults-history.js";

/** A node as the checks need it: its uid (the conversation id on the other side) and a client. */
export interface Side {
  uid: string;
  session: ResilientSession;
}

export interface ExchangeOutcome {
  lost: number;
  duplicated: number;
}

/**
 * The end state every fault scenario must reach, checked through the API of both nodes:
 * each side holds exactly the messages each sender sent — every one once, in the sender's
 * order, under the same ids on both sides — and every outgoing message converges to
 * delivered. Lost and duplicated are counted
 * before the assertions, so a failure still reports the figures.
 */
export async function expectConverged(a: Side, b: Side, aTexts: readonly string[], bTexts: readonly string[], timeoutMs = 180_000): Promise<ExchangeOutcome> {
  const name = (s: Side) => s.session.node.name;
  // Wait (bounded) until each side holds at least everything the other sent, then compare.
  const settle = (side: Side, other: Side, expected: number) =>
    eventually(
      async () => {
        const incoming = split(await side.session.call((c) => wholeConversation(c, other.uid))).incoming;
        return incoming.length >= expected ? true : undefined;
      },
      timeoutMs,
      `${name(side)} to hold the ${expected} messages ${name(other)} sent`,
    ).catch(() => false);
  await Promise.all([settle(a, b, bTexts.length), settle(b, a, aTexts.length)]);

  const aToB = () => a.session.call((c) => wholeConversation(c, b.uid));
  const bToA = () => b.session.call((c) => wholeConversation(c, a.uid));
  const [aView, bView] = await Promise.all([aToB().then(split), bToA().then(split)]);
  const texts = (ms: { text: string }[]) => ms.map((m) => m.text);
  const counts = [lostAndDuplicated(aTexts, texts(bView.incoming)), lostAndDuplicated(bTexts, texts(aView.incoming)), lostAndDuplicated(aTexts, texts(aView.outgoing)), lostAndDuplicated(bTexts, texts(bView.outgoing))];
  const outcome = { lost: Math.max(counts[0]!.lost, counts[2]!.lost) + Math.max(counts[1]!.lost, counts[3]!.lost), duplicated: counts.reduce((n, c) => n + c.duplicated, 0) };
  console.log(`[faults] ${name(a)}⇄${name(b)}: lost ${outcome.lost}, duplicated ${outcome.duplicated}`);

  // Exactly once and in each sender's order, on the sender's side and on the receiver's.
  expect(texts(aView.outgoing), `${name(a)}'s outgoing`).toEqual(aTexts);
  expect(texts(bView.incoming), `${name(b)}'s messages from ${name(a)}`).toEqual(aTexts);
  expect(texts(bView.outgoing), `${name(b)}'s outgoing`).toEqual(bTexts);
  expect(texts(aView.incoming), `${name(a)}'s messages from ${name(b)}`).toEqual(bTexts);
  // Both histories agree: the same message ids, from the same sender.
  expect(bView.incoming.map((m) => m.id)).toEqual(aView.outgoing.map((m) => m.id));
  expect(aView.incoming.map((m) => m.id)).toEqual(bView.outgoing.map((m) => m.id));
  expect(new Set(bView.incoming.map((m) => m.senderUid))).toEqual(new Set(aTexts.length ? [a.uid] : []));
  expect(new Set(aView.incoming.map((m) => m.senderUid))).toEqual(new Set(bTexts.length ? [b.uid] : []));

  await Promise.all([
    waitForOutgoing(aToB, aTexts.length, MessageState.DELIVERED, `${name(a)}'s messages to be delivered`, timeoutMs),
    waitForOutgoing(bToA, bTexts.length, MessageState.DELIVERED, `${name(b)}'s messages to be delivered`, timeoutMs),
  ]);
  return outcome;
}

/**
 * Both users mark the conversation read; every outgoing message on both sides must then
 * converge to read (the read receipts arrive, whatever the faults did to the channel before).
 */
export async function expectAllRead(a: Side, b: Side, aCount: number, bCount: number, timeoutMs = 120_000): Promise<void> {
  const name = (s: Side) => s.session.node.name;
  const aToB = () => a.session.call((c) => wholeConversation(c, b.uid));
  const bToA = () => b.session.call((c) => wholeConversation(c, a.uid));
  await Promise.all([a.session.call((c) => c.markRead({ conversation: b.uid })), b.session.call((c) => c.markRead({ conversation: a.uid }))]);
  await Promise.all([
    waitForOutgoing(aToB, aCount, MessageState.READ, `${name(a)}'s messages to be read`, timeoutMs),
    waitForOutgoing(bToA, bCount, MessageState.READ, `${name(b)}'s messages to be read`, timeoutMs),
  ]);
}
