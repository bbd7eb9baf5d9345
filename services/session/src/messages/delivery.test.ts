import { afterEach, describe, expect, it, vi } from "vitest";
import { create } from "@bufbuild/protobuf";
import { FakeClock } from "@jarvis/core";
import { AckSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { TestNodes, link, type TestNode } from "../testing/test-nodes.js";
import type { FrameFate } from "../testing/in-memory-network.js";
import type { SessionApp } from "../app/session-app.js";
import type { MessageState } from "../model.js";
import { decodeEnvelope } from "./envelopes.js";
import { OUTBOX_LIMITS } from "../constants.js";
import { SENT_FOLD_MS } from "./outbox-delivery.js";
import { MAX_QUEUED_BYTES_PER_PEER } from "../constants.js";

let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

const waitFor = <T>(fn: () => T) => vi.waitFor(fn, { timeout: 5_000, interval: 5 });
const ticks = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};
const state = (app: SessionApp, id: string) => app.requireUnlocked().outgoing.ownMessage(id)?.state;
const bodyOf = (payload: Buffer) => decodeEnvelope(payload).body.case;
const texts = (app: SessionApp, conversation: string) => app.listMessages(conversation, { before: 0, after: 0, limit: 50 }).messages.map((m) => m.text);
const uidOf = (app: SessionApp) => app.identity().identity.uid;
const keyHex = (app: SessionApp) => app.identity().identity.publicKey.toString("hex");

/** A fate for one kind of envelope; everything else is delivered. */
function fateFor(kind: string, fate: FrameFate, counter = { n: 0 }) {
  return (_to: string, payload: Buffer): FrameFate => {
    if (bodyOf(payload) !== kind) return "deliver";
    counter.n++;
    return fate;
  };
}

/** Closes `from`'s channel to `to` and lets the hub open it again, as a reconnect does. */
function reconnect(from: TestNode, to: SessionApp): void {
  from.network.dropPeer(keyHex(to));
  nodes.hub.refresh();
}

async function pair(clock?: FakeClock): Promise<[TestNode, TestNode]> {
  const alice = await nodes.person("alice", { clock });
  const bob = await nodes.person("bob");
  link(alice.app, bob.app);
  await waitFor(() => expect(alice.app.requireUnlocked().presence.isConnected(uidOf(bob.app))).toBe(true));
  await waitFor(() => expect(bob.app.requireUnlocked().presence.isConnected(uidOf(alice.app))).toBe(true));
  return [alice, bob];
}

describe("outbox delivery", () => {
  it("marks a message sent only when its frame is written, and resends it after the backoff while the channel stays up", async () => {
    const clock = new FakeClock(Date.now());
    const [alice, bob] = await pair(clock);
    alice.network.fate = fateFor("chatMessage", "lose");
    const message = await alice.app.sendMessage("bob", "are you there?");
    const chats = () => alice.network.sent.filter((f) => bodyOf(f.payload) === "chatMessage").length;
    await waitFor(() => expect(chats()).toBe(1));
    await ticks();
    // Written, but nothing else commits: "sent" is recorded on its own after SENT_FOLD_MS.
    clock.advance(SENT_FOLD_MS);
    await waitFor(() => expect(state(alice.app, message.id)).toBe("sent"));
    await ticks();
    expect(chats()).toBe(1);
    expect(texts(bob.app, "alice")).toEqual([]);

    alice.network.fate = undefined;
    clock.advance(OUTBOX_LIMITS.retry.baseMs - 1 - SENT_FOLD_MS);
    await ticks();
    expect(chats()).toBe(1); // not before the backoff delay
    clock.advance(1);
    await waitFor(() => expect(state(alice.app, message.id)).toBe("delivered"));
    expect(chats()).toBe(2);
    expect(texts(bob.app, "alice")).toEqual(["are you there?"]);
  });

  it("a written report that waits for the ack's commit costs no commit and no write: queued straight to delivered", async () => {
    const clock = new FakeClock(Date.now()); // never advanced: the fold's own timer cannot fire
    const [alice] = await pair(clock);
    const { store } = alice.app.requireUnlocked();
    const before = store.uow.commits;
    const cursor = store.events.latestCursor();
    const message = await alice.app.sendMessage("bob", "one commit less");
    await waitFor(() => expect(state(alice.app, message.id)).toBe("delivered"));
    // The send's commit and the ack's: the written report rode along with the latter, where
    // the ack made "sent" moot.
    expect(store.uow.commits - before).toBe(2);
    const states: string[] = [];
    const latest = store.events.latestCursor();
    for await (const { cursor: at, event } of store.events.subscribe(cursor, new AbortController().signal)) {
      if (event.type === "message_state_changed" && event.messageId === message.id) states.push(event.state);
      if (at >= latest) break;
    }
    expect(states).toEqual(["delivered"]);
  });

  it("commits a written report on its own once nothing else has committed for SENT_FOLD_MS", async () => {
    const clock = new FakeClock(Date.now());
    const [alice] = await pair(clock);
    alice.network.fate = fateFor("chatMessage", "lose");
    const message = await alice.app.sendMessage("bob", "written, never acked");
    await waitFor(() => expect(alice.network.sent.some((f) => bodyOf(f.payload) === "chatMessage")).toBe(true));
    await ticks();
    clock.advance(SENT_FOLD_MS - 1);
    await ticks();
    expect(state(alice.app, message.id)).toBe("queued");
    clock.advance(1);
    await waitFor(() => expect(state(alice.app, message.id)).toBe("sent"));
  });

  it("a burst of written reports waits out the fold too: what is acked meanwhile goes straight to delivered, the rest is recorded sent in one commit", async () => {
    const clock = new FakeClock(Date.now());
    const [alice, bob] = await pair(clock);
    alice.network.fate = fateFor("chatMessage", "lose");
    const messages = await Promise.all(["one", "two", "three"].map((text) => alice.app.sendMessage("bob", text)));
    const chats = () => alice.network.sent.filter((f) => bodyOf(f.payload) === "chatMessage").length;
    await waitFor(() => expect(chats()).toBe(3));
    await ticks();
    const u = alice.app.requireUnlocked();
    const contact = u.store.contacts.get(uidOf(bob.app));
    if (!contact) throw new Error("no contact");
    const cursor = u.store.events.latestCursor();
    await u.store.uow.write(() => u.acks.receive(contact, create(AckSchema, { messageIds: [messages[1]?.id as string] })));
    clock.advance(SENT_FOLD_MS - 1);
    await ticks();
    expect(messages.map((m) => state(alice.app, m.id))).toEqual(["queued", "delivered", "queued"]);
    const before = u.store.uow.commits;
    clock.advance(1);
    await waitFor(() => expect(messages.map((m) => state(alice.app, m.id))).toEqual(["sent", "delivered", "sent"]));
    expect(u.store.uow.commits - before).toBe(1);
    const moves: string[] = [];
    const latest = u.store.events.latestCursor();
    for await (const { cursor: at, event } of u.store.events.subscribe(cursor, new AbortController().signal)) {
      if (event.type === "message_state_changed") moves.push(`${messages.findIndex((m) => m.id === event.messageId)}:${event.state}`);
      if (at >= latest) break;
    }
    expect(moves).toEqual(["1:delivered", "0:sent", "2:sent"]);
  });

  it("an ack rolled back with its commit does not make the written report moot: the message is recorded sent", async () => {
    const clock = new FakeClock(Date.now());
    const [alice, bob] = await pair(clock);
    alice.network.fate = fateFor("chatMessage", "lose");
    const message = await alice.app.sendMessage("bob", "acked, then not");
    await waitFor(() => expect(alice.network.sent.some((f) => bodyOf(f.payload) === "chatMessage")).toBe(true));
    await ticks();
    const u = alice.app.requireUnlocked();
    const contact = u.store.contacts.get(uidOf(bob.app));
    if (!contact) throw new Error("no contact");
    const failing = u.store.uow.write(() => {
      u.acks.receive(contact, create(AckSchema, { messageIds: [message.id] }));
      throw new Error("disk full");
    });
    await expect(failing).rejects.toThrow("disk full");
    expect(state(alice.app, message.id)).toBe("queued");
    clock.advance(SENT_FOLD_MS);
    await waitFor(() => expect(state(alice.app, message.id)).toBe("sent"));
    expect(u.store.outbox.pendingCount(uidOf(bob.app))).toBe(1);
  });

  it("keeps a dropped message queued in the outbox and resends it on the next connect", async () => {
    const clock = new FakeClock(Date.now());
    const [alice, bob] = await pair(clock);
    const dropped = { n: 0 };
    alice.network.fate = fateFor("chatMessage", "drop", dropped);
    const message = await alice.app.sendMessage("bob", "try again later");
    await waitFor(() => expect(dropped.n).toBe(1));
    await ticks();
    expect(state(alice.app, message.id)).toBe("queued");
    expect(alice.app.requireUnlocked().store.outbox.pendingCount(uidOf(bob.app))).toBe(1);

    alice.network.fate = undefined;
    reconnect(alice, bob.app); // no clock advance: it is the connect, not a retry, that resends
    await waitFor(() => expect(state(alice.app, message.id)).toBe("delivered"));
    expect(texts(bob.app, "alice")).toEqual(["try again later"]);
    expect(alice.app.requireUnlocked().store.outbox.pendingCount(uidOf(bob.app))).toBe(0);
  });

  it("keeps a read receipt the network wrote but the peer never took until the peer acks it", async () => {
    const [alice, bob] = await pair();
    const message = await alice.app.sendMessage("bob", "read me");
    await waitFor(() => expect(state(alice.app, message.id)).toBe("delivered"));
    // Written to the channel, then lost on the way (alice's session was restarting): without
    // an ack nobody would know, and marking read again sends nothing (it is read already).
    const lost = { n: 0 };
    bob.network.fate = fateFor("receipt", "lose", lost);
    expect(await bob.app.markRead("alice")).toBe(1);
    await waitFor(() => expect(lost.n).toBe(1));
    await ticks();
    const owed = () => bob.app.requireUnlocked().store.outbox.pending(uidOf(alice.app), 0, 10);
    expect(owed().map((e) => bodyOf(e.payload))).toEqual(["receipt"]);
    expect(state(alice.app, message.id)).toBe("delivered");
    expect(await bob.app.markRead("alice")).toBe(0);

    bob.network.fate = undefined;
    reconnect(bob, alice.app);
    await waitFor(() => expect(state(alice.app, message.id)).toBe("read"));
    // alice acked it, so it leaves bob's outbox and is not sent again.
    await waitFor(() => expect(owed()).toEqual([]));
  });

  it("keeps a read receipt in the outbox until it is written", async () => {
    const [alice, bob] = await pair();
    const message = await alice.app.sendMessage("bob", "read me");
    await waitFor(() => expect(state(alice.app, message.id)).toBe("delivered"));
    const dropped = { n: 0 };
    bob.network.fate = fateFor("receipt", "drop", dropped);
    expect(await bob.app.markRead("alice")).toBe(1);
    await waitFor(() => expect(dropped.n).toBe(1));
    await ticks();
    const owed = () => bob.app.requireUnlocked().store.outbox.pending(uidOf(alice.app), 0, 10);
    expect(owed().map((e) => bodyOf(e.payload))).toEqual(["receipt"]);
    expect(state(alice.app, message.id)).toBe("delivered");

    bob.network.fate = undefined;
    reconnect(bob, alice.app);
    await waitFor(() => expect(state(alice.app, message.id)).toBe("read"));
    await waitFor(() => expect(owed()).toEqual([]));
  });

  it("advances queued → delivered when the ack comes and the network never reports the frame", async () => {
    const [alice] = await pair();
    alice.network.fate = () => "unreported";
    const message = await alice.app.sendMessage("bob", "old network");
    await waitFor(() => expect(state(alice.app, message.id)).toBe("delivered"));
    const states: MessageState[] = [];
    const abort = new AbortController();
    const latest = alice.app.requireUnlocked().store.events.latestCursor();
    for await (const stored of alice.app.subscribe(0, false, abort.signal)) {
      if (stored.event.type === "message_state_changed" && stored.event.messageId === message.id) states.push(stored.event.state);
      if (stored.cursor >= latest) break;
    }
    expect(states).toEqual(["delivered"]);
  });

  it("hands new messages to the network from memory: the outbox is not read back while connected", async () => {
    const [alice, bob] = await pair();
    const outbox = alice.app.requireUnlocked().store.outbox;
    const reads = vi.spyOn(outbox, "pending");
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => alice.app.sendMessage("bob", `fast ${i}`)));
    await waitFor(() => expect(sent.map((m) => state(alice.app, m.id))).toEqual(sent.map(() => "delivered")));
    expect(reads).not.toHaveBeenCalled();
    expect(texts(bob.app, "alice")).toEqual(sent.map((_, i) => `fast ${i}`));
  });

  it("holds at most the per-peer byte bound in memory while the network is slow, and catches up from the outbox in order", async () => {
    const [alice, bob] = await pair();
    let open = () => {};
    alice.network.gate = new Promise<void>((resolve) => (open = resolve));
    const reads = vi.spyOn(alice.app.requireUnlocked().store.outbox, "pending");
    const big = "x".repeat(60 * 1024);
    const count = 40; // ~2.4 MB: more than twice the bound
    const sent = await Promise.all(Array.from({ length: count }, (_, i) => alice.app.sendMessage("bob", `${i} ${big}`)));
    const channel = alice.app.requireUnlocked().delivery.channel(uidOf(bob.app));
    expect(channel?.queuedBytes).toBeGreaterThan(0);
    expect(channel?.queuedBytes).toBeLessThanOrEqual(MAX_QUEUED_BYTES_PER_PEER);
    expect(reads).not.toHaveBeenCalled();

    alice.network.gate = undefined;
    open();
    await waitFor(() => expect(sent.map((m) => state(alice.app, m.id))).toEqual(sent.map(() => "delivered")));
    expect(reads).toHaveBeenCalled(); // what did not fit in memory came from the outbox
    expect(texts(bob.app, "alice").map((t) => Number(t.split(" ")[0]))).toEqual(Array.from({ length: count }, (_, i) => i));
  });
});
