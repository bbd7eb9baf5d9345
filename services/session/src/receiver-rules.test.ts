import { afterEach, describe, expect, it, vi } from "vitest";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ChatMessageSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { FakeClock, fingerprintOf, newMessageId, uidFromPublicKey, type Logger } from "@jarvis/core";
import { publicKeyOf } from "./identity/account-files.js";
import { decodeEnvelope, groupUpdateEnvelope, helloEnvelope } from "./messages/envelopes.js";
import { TestNodes, link } from "./testing/test-nodes.js";
import { SENT_FOLD_MS } from "./messages/outbox-delivery.js";
import { PAGE, cardOf, connected, drops, groupWithMallory as withMallory, keyOf, raw, waitFor } from "./testing/trust-fixtures.js";
import type { SessionApp } from "./app/session-app.js";
import type { Card } from "./model.js";

// Issue 15, "trust above the channel", at the session layer: real encrypted stores and real
// services; the attacker is a node on the in-memory hub that sends raw envelopes with its own key.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});
const groupWithMallory = () => withMallory(nodes);

describe("names are local", () => {
  it("keeps a contact's name and records a later announced name as its claim", async () => {
    const { bob, carol } = await groupWithMallory();
    await connected(bob, carol);
    await nodes.hub.inject(keyOf(carol), keyOf(bob), helloEnvelope("alice", ""));
    await waitFor(() => expect(bob.getContact("carol").claimedName).toBe("alice"));
    expect(bob.getContact("carol").name).toBe("carol");
    expect(bob.getContact("alice").uid).not.toBe(carol.identity().identity.uid);
  });
});

describe("receiver rules", () => {
  it("refuses a chat that comes before the channel's Hello, unacked, and takes it once Hello came", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    const aliceNet = nodes.hub.endpoints.get(keyOf(alice).toString("hex"));
    if (!aliceNet) throw new Error("no endpoint");
    aliceNet.fate = (_to, payload) => (decodeEnvelope(payload).body.case === "hello" ? "drop" : "deliver");
    link(alice, bob);
    await connected(alice, bob);
    const message = await alice.sendMessage("bob", "too early");
    await waitFor(() => expect(drops(bob).beforeHello).toBeGreaterThan(0));
    expect(bob.listMessages("alice", PAGE).messages).toEqual([]);
    expect(alice.requireUnlocked().outgoing.ownMessage(message.id)?.state).not.toBe("delivered");

    // Hellos flow again: bob's reply_requested Hello is answered, alice resends at once.
    aliceNet.fate = undefined;
    await nodes.hub.inject(keyOf(bob), keyOf(alice), helloEnvelope("bob", "", true));
    await waitFor(() => expect(bob.listMessages("alice", PAGE).messages.map((m) => m.text)).toEqual(["too early"]));
    await waitFor(() => expect(alice.requireUnlocked().outgoing.ownMessage(message.id)?.state).toBe("delivered"));
  });

  it("resends what is owed at once when the peer's channel is replaced by a duplicate, without waiting for the retry", async () => {
    const clock = new FakeClock(Date.now()); // advanced only past the "sent" fold: no retry timer can fire
    const alice = (await nodes.person("alice", { clock })).app;
    const [bob] = (await nodes.people(["bob"])).map((n) => n.app) as [SessionApp];
    link(alice, bob);
    await connected(alice, bob);
    const aliceNet = nodes.hub.endpoints.get(keyOf(alice).toString("hex"));
    if (!aliceNet) throw new Error("no endpoint");
    // Written to the channel that loses the tie-break: reported sent, never arrives.
    aliceNet.fate = (_to, payload) => (decodeEnvelope(payload).body.case === "chatMessage" ? "lose" : "deliver");
    const message = await alice.sendMessage("bob", "sent on the losing channel");
    await waitFor(() => expect(aliceNet.sent.some((f) => decodeEnvelope(f.payload).body.case === "chatMessage")).toBe(true));
    await new Promise((resolve) => setImmediate(resolve)); // the written report lands
    clock.advance(SENT_FOLD_MS);
    await waitFor(() => expect(alice.requireUnlocked().outgoing.ownMessage(message.id)?.state).toBe("sent"));
    aliceNet.fate = undefined;
    aliceNet.reconnected(keyOf(bob).toString("hex"));
    await waitFor(() => expect(bob.listMessages("alice", PAGE).messages.map((m) => m.text)).toEqual(["sent on the losing channel"]));
    await waitFor(() => expect(alice.requireUnlocked().outgoing.ownMessage(message.id)?.state).toBe("delivered"));
  });

  it("stores a message whose sent_at_ms is 2^63-1 with the receive time, acks sequence 0 without storing it", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    await connected(bob, alice);
    await waitFor(() => expect(bob.getContact("alice")).toBeDefined());
    const far = raw({ case: "chatMessage", value: create(ChatMessageSchema, { messageId: newMessageId(), sequence: 1n, sentAtMs: 2n ** 63n - 1n, text: "from the future" }) });
    const zero = raw({ case: "chatMessage", value: create(ChatMessageSchema, { messageId: newMessageId(), sequence: 0n, sentAtMs: BigInt(Date.now()), text: "no sequence" }) });
    const before = Date.now();
    await nodes.hub.inject(keyOf(alice), keyOf(bob), far);
    await nodes.hub.inject(keyOf(alice), keyOf(bob), zero);
    await waitFor(() => expect(drops(bob).malformed).toBe(1));
    const [stored] = bob.listMessages("alice", PAGE).messages;
    expect(stored?.text).toBe("from the future");
    expect(stored?.sentAt).toBeGreaterThanOrEqual(before);
    expect(stored?.sentAt).toBeLessThanOrEqual(Date.now());
    expect(drops(bob).clampedTimestamps).toBe(1);
  });
});

describe("logs", () => {
  it("name no peer at the info level and above while contacts, messages and group updates flow", async () => {
    const lines: string[] = [];
    const record = (level: string) => (obj: object, msg?: string) => void lines.push(`${level} ${msg ?? ""} ${JSON.stringify(obj)}`);
    const logger: Logger = { debug: () => {}, info: record("info"), warn: record("warn"), error: record("error"), child: () => logger };
    const alice = (await nodes.person("alice", { logger })).app;
    const [bob, mallory] = (await nodes.people(["bob", "mallory"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    link(alice, mallory);
    const group = alice.createGroup("team", ["bob", "mallory"]);
    await alice.sendMessage("bob", "hello");
    await waitFor(() => expect(bob.listMessages(group.id, PAGE).messages).toHaveLength(0));
    await nodes.hub.inject(keyOf(mallory), keyOf(alice), groupUpdateEnvelope({ id: group.id, name: "x", creatorUid: group.creatorUid, revision: 2, adminUids: [] }, [cardOf(mallory)]));
    await waitFor(() => expect(drops(alice).refusedGroupUpdates).toBe(1));
    expect(lines.length).toBeGreaterThan(0); // the logger is wired: unlock logs at info
    for (const peer of [bob, mallory]) {
      const uid = peer.identity().identity.uid;
      expect(lines.filter((l) => l.includes(uid.slice(0, 8)))).toEqual([]);
    }
  });
});

describe("learning members", () => {
  const stranger = (address: string): Card => {
    const publicKey = publicKeyOf(randomBytes(32));
    return { uid: uidFromPublicKey(publicKey), name: "member", publicKey, addresses: [address], fingerprint: fingerprintOf(publicKey) };
  };

  it("costs one allow-list update per group update and one dial per new member, and redials no address within a minute", async () => {
    const clock = new FakeClock(Date.now());
    const bobNode = await nodes.person("bob", { clock });
    const [alice] = (await nodes.people(["alice"])).map((n) => n.app) as [SessionApp];
    const bob = bobNode.app;
    link(alice, bob);
    await connected(bob, alice);
    const setAllowed = vi.spyOn(bobNode.network, "setAllowed");
    const dial = vi.spyOn(bobNode.network, "dial");
    const members = Array.from({ length: 61 }, (_, i) => stranger(`127.0.0.1:${20000 + i}`));
    const aliceUid = alice.identity().identity.uid;
    const groupId = "g" + "3".repeat(31);
    const announce = (revision: number, cards: Card[]) =>
      nodes.hub.inject(keyOf(alice), keyOf(bob), groupUpdateEnvelope({ id: groupId, name: "big", creatorUid: aliceUid, revision, adminUids: [aliceUid] }, [cardOf(alice), cardOf(bob), ...cards]));

    await announce(1, members);
    await waitFor(() => expect(dial).toHaveBeenCalledTimes(61));
    expect(setAllowed).toHaveBeenCalledTimes(1);
    expect(setAllowed.mock.calls[0]?.[0]).toHaveLength(1 + 61);

    // (61 + alice + bob: a group holds at most 64.) A newcomer at an address already dialled: allowed at once, not dialled again within the minute.
    const late = stranger("127.0.0.1:20000");
    await announce(2, [...members, late]);
    await waitFor(() => expect(bob.getGroup(groupId).memberUids).toContain(late.uid));
    await waitFor(() => expect(setAllowed).toHaveBeenCalledTimes(2));
    expect(dial).toHaveBeenCalledTimes(61);
    // A minute later that address may be dialled again (the member that replaced `late`).
    clock.advance(60_000);
    const later = stranger("127.0.0.1:20000");
    await announce(3, [...members, later]);
    await waitFor(() => expect(dial).toHaveBeenCalledTimes(62));
    expect(bob.listContacts()).toHaveLength(1); // all 62 are group contacts, not bob's
  });
});
