import { afterEach, describe, expect, it, vi } from "vitest";
import { Code } from "@connectrpc/connect";
import { FakeClock, ResourceExhaustedError } from "@jarvis/core";
import { toConnectError } from "@jarvis/rpc";
import { ErrorInfoSchema } from "@jarvis/proto/google/rpc/error_details";
import { TestNodes, link, type TestNode } from "../testing/test-nodes.js";
import type { SessionApp } from "../app/session-app.js";
import type { StreamedSend, StreamedSendOutcome } from "../app/send-stream.js";
import { OUTBOX_LIMITS } from "../constants.js";

let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

const waitFor = <T>(fn: () => T) => vi.waitFor(fn, { timeout: 5_000, interval: 5 });
const uidOf = (app: SessionApp) => app.identity().identity.uid;
const BUSY = OUTBOX_LIMITS.busyBacklog;

/**
 * Alice and bob connected, bob acking (one message delivered), then every frame alice sends is
 * reported written but never arrives: from then on nothing is acked. Alice's clock does not
 * move unless the test moves it, so bob still counts as acking lately.
 */
async function saturatedPair(clock = new FakeClock()): Promise<[TestNode, TestNode]> {
  const alice = await nodes.person("alice", { clock });
  const bob = await nodes.person("bob");
  link(alice.app, bob.app);
  await waitFor(() => expect(alice.app.requireUnlocked().presence.isConnected(uidOf(bob.app))).toBe(true));
  const first = await alice.app.sendMessage(uidOf(bob.app), "first");
  await waitFor(() => expect(alice.app.requireUnlocked().outgoing.ownMessage(first.id)?.state).toBe("delivered"));
  alice.network.fate = () => "lose";
  return [alice, bob];
}

/** A SendMessages stream of `total` requests m0, m1, … to `uid`, its answers collected as they come. */
function streamTo(app: SessionApp, uid: string, total: number): { answers: StreamedSendOutcome[]; streaming: Promise<void> } {
  async function* requests(): AsyncGenerator<StreamedSend> {
    for (let i = 0; i < total; i++) yield { correlationId: String(i), conversation: uid, text: `m${i}` };
  }
  const answers: StreamedSendOutcome[] = [];
  const streaming = (async () => {
    for await (const outcome of app.sendMessages(requests())) answers.push(outcome);
  })();
  return { answers, streaming };
}

/** The lost frames are resent on a new channel and acked from now on. */
function resumeDelivery(alice: TestNode, bob: TestNode): void {
  alice.network.fate = undefined;
  alice.network.dropPeer(bob.app.identity().identity.publicKey.toString("hex"));
  nodes.hub.refresh();
}

/** Every request answered in request order, and stored in that order after the first message. */
function expectAnsweredAndStoredInOrder(app: SessionApp, uid: string, answers: StreamedSendOutcome[], total: number): void {
  expect(answers.map((a) => a.correlationId)).toEqual(Array.from({ length: total }, (_, i) => String(i)));
  const stored = app.listMessages(uid, { before: 0, after: 0, limit: 1000 }).messages.map((m) => m.text);
  expect(stored.slice(1)).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));
}

describe("overload", () => {
  it("unary: a burst beyond the backlog to a connected contact is refused at once as busy, with a retry hint", async () => {
    const [alice, bob] = await saturatedPair();
    const burst = BUSY + 44;
    const results = await Promise.allSettled(Array.from({ length: burst }, (_, i) => alice.app.sendMessage(uidOf(bob.app), `m${i}`)));
    const refused = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as ResourceExhaustedError);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(BUSY);
    // (+1 below: the delivered first message.)
    expect(refused).toHaveLength(44);
    expect(refused.every((e) => e instanceof ResourceExhaustedError && e.code === "busy" && e.retryAfterMs === OUTBOX_LIMITS.busyRetryMs)).toBe(true);
    // Over RPC: RESOURCE_EXHAUSTED with ErrorInfo reason busy and metadata retry_after_ms.
    const status = toConnectError(refused[0]);
    expect(status.code).toBe(Code.ResourceExhausted);
    expect(status.findDetails(ErrorInfoSchema)[0]?.metadata).toEqual({ retry_after_ms: String(OUTBOX_LIMITS.busyRetryMs) });
    // Nothing refused was stored: the conversation holds exactly the accepted ones.
    expect(alice.app.listMessages(uidOf(bob.app), { before: 0, after: 0, limit: 1000 }).messages).toHaveLength(BUSY + 1);
  });

  it("a send rolled back with the rest of its group commit frees its place: the backlog limit stays exact", async () => {
    const [alice, bob] = await saturatedPair();
    const bobUid = uidOf(bob.app);
    const u = alice.app.requireUnlocked();
    const contact = u.store.contacts.get(bobUid);
    if (!contact) throw new Error("no contact");
    const accepted = await Promise.all(Array.from({ length: BUSY - 2 }, (_, i) => alice.app.sendMessage(bobUid, `m${i}`)));
    expect(accepted).toHaveLength(BUSY - 2);
    // Two sends stored, then their transaction fails (as a full disk would): nothing of them stays.
    const failing = u.store.uow.write(() => {
      u.conversations.storeDirect(contact, "rolled back 1");
      u.conversations.storeDirect(contact, "rolled back 2");
      throw new Error("disk full");
    });
    await expect(failing).rejects.toThrow("disk full");
    expect(u.store.outbox.pendingCount(bobUid)).toBe(BUSY - 2);
    // So exactly two more fit, and the next is busy.
    await alice.app.sendMessage(bobUid, "fits 1");
    await alice.app.sendMessage(bobUid, "fits 2");
    await expect(alice.app.sendMessage(bobUid, "one too many")).rejects.toMatchObject({ code: "busy" });
    const texts = alice.app.listMessages(bobUid, { before: 0, after: 0, limit: 1000 }).messages.map((m) => m.text);
    expect(texts).toHaveLength(BUSY + 1);
    expect(texts.filter((t) => t.startsWith("rolled back"))).toEqual([]);
  });

  it("a contact that stopped acking queues like an offline one, up to the full outbox", async () => {
    const clock = new FakeClock();
    const [alice, bob] = await saturatedPair(clock);
    clock.advance(OUTBOX_LIMITS.busyAckWindowMs + 1);
    const results = await Promise.allSettled(Array.from({ length: BUSY + 10 }, (_, i) => alice.app.sendMessage(uidOf(bob.app), `m${i}`)));
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
  });

  it("an offline contact still queues up to the full outbox (busy is about a connected one)", async () => {
    const [alice, bob] = await saturatedPair();
    const bobUid = uidOf(bob.app);
    await bob.app.lock();
    await waitFor(() => expect(alice.app.requireUnlocked().presence.isConnected(bobUid)).toBe(false));
    const results = await Promise.allSettled(Array.from({ length: BUSY + 10 }, (_, i) => alice.app.sendMessage(bobUid, `m${i}`)));
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
  });

  it("stream: waits for room instead of being refused, then stores everything in request order", async () => {
    const clock = new FakeClock();
    const [alice, bob] = await saturatedPair(clock);
    const bobUid = uidOf(bob.app);
    const total = BUSY + 40;
    const { answers, streaming } = streamTo(alice.app, bobUid, total);
    // The backlog fills, then the rest wait: none refused, none stored past the backlog.
    await waitFor(() => expect(answers).toHaveLength(BUSY));
    for (let i = 0; i < 5; i++) {
      clock.advance(OUTBOX_LIMITS.busyRetryMs);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(answers).toHaveLength(BUSY);
    expect(alice.app.requireUnlocked().store.outbox.pendingCount(bobUid)).toBe(BUSY);

    // Delivery resumes (the lost frames are resent on a new channel and acked): room appears
    // and the waiting requests go on, on the next looks.
    resumeDelivery(alice, bob);
    await vi.waitFor(
      () => {
        clock.advance(OUTBOX_LIMITS.busyRetryMs);
        expect(answers).toHaveLength(total);
      },
      { timeout: 10_000, interval: 5 },
    );
    await streaming;
    expect(answers.every((a) => a.message !== undefined)).toBe(true);
    expectAnsweredAndStoredInOrder(alice.app, bobUid, answers, total);
  });

  it("stream: a waiting request goes on as soon as an ack frees room, without waiting out its pause", async () => {
    const clock = new FakeClock();
    const [alice, bob] = await saturatedPair(clock);
    const bobUid = uidOf(bob.app);
    const total = BUSY + 40;
    const { answers, streaming } = streamTo(alice.app, bobUid, total);
    await waitFor(() => expect(answers).toHaveLength(BUSY));

    // Delivery resumes; alice's clock never moves again, so only the acks can wake the stream.
    resumeDelivery(alice, bob);
    await vi.waitFor(() => expect(answers).toHaveLength(total), { timeout: 10_000, interval: 5 });
    await streaming;
    expectAnsweredAndStoredInOrder(alice.app, bobUid, answers, total);
  });
});
