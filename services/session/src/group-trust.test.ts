import { afterEach, describe, expect, it } from "vitest";
import { newMessageId } from "@jarvis/core";
import { OUTBOX_LIMITS } from "./constants.js";
import { chatEnvelope, decodeEnvelope, groupMessageEnvelope, groupUpdateEnvelope } from "./messages/envelopes.js";
import { TestNodes } from "./testing/test-nodes.js";
import { PAGE, cardOf, drops, groupWithMallory as withMallory, keyOf, waitFor } from "./testing/trust-fixtures.js";
import type { SessionApp } from "./app/session-app.js";

// Issue 15, "trust above the channel", at the session layer: real encrypted stores and real
// services; the attacker is a node on the in-memory hub that sends raw envelopes with its own key.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});
const groupWithMallory = () => withMallory(nodes);

describe("group authority", () => {
  it("refuses a plain member's update that removes the creator and adds its own key under a contact's name; the group keeps working", async () => {
    const { alice, bob, mallory, carol, eve, group } = await groupWithMallory();
    const fakeCarol = { ...cardOf(eve), name: carol.identity().identity.name };
    const attack = groupUpdateEnvelope(
      { id: group.id, name: "team", creatorUid: group.creatorUid, revision: group.revision + 1, adminUids: [mallory.identity().identity.uid] },
      [cardOf(bob), cardOf(mallory), fakeCarol],
    );
    await nodes.hub.inject(keyOf(mallory), keyOf(bob), attack);
    await waitFor(() => expect(drops(bob).refusedGroupUpdates).toBe(1));

    const held = bob.getGroup(group.id);
    expect(held.memberUids).toEqual(alice.getGroup(group.id).memberUids);
    expect(held.memberUids).not.toContain(eve.identity().identity.uid);
    expect(bob.listContacts().map((c) => c.name).sort()).toEqual(["alice", "carol"]);
    expect(bob.requireUnlocked().contacts.find(eve.identity().identity.uid)).toBeUndefined();

    await alice.sendMessage(group.id, "still here");
    await waitFor(() => expect(bob.listMessages(group.id, PAGE).messages.map((m) => m.text)).toEqual(["still here"]));
  });

  it("refuses revision jumps and first updates from anyone but the creator, and counts them", async () => {
    const { alice, bob, mallory, group } = await groupWithMallory();
    const members = [cardOf(alice), cardOf(bob), cardOf(mallory)];
    const creator = { id: group.id, name: "renamed", creatorUid: group.creatorUid, adminUids: [group.creatorUid] };
    // Even the creator may not spend the revision counter in one step.
    await nodes.hub.inject(keyOf(alice), keyOf(bob), groupUpdateEnvelope({ ...creator, revision: group.revision + 1001 }, members));
    await waitFor(() => expect(drops(bob).refusedGroupUpdates).toBe(1));
    expect(bob.getGroup(group.id).name).toBe("team");

    // A group bob has never heard of, announced by a member that did not create it.
    const other = "g" + "2".repeat(31);
    const notCreator = { id: other, name: "fake", creatorUid: alice.identity().identity.uid, revision: 1, adminUids: [alice.identity().identity.uid] };
    await nodes.hub.inject(keyOf(mallory), keyOf(bob), groupUpdateEnvelope(notCreator, members));
    await waitFor(() => expect(drops(bob).refusedGroupUpdates).toBe(2));
    expect(bob.listGroups().map((g) => g.id)).toEqual([group.id]);

    // A step within bounds from the creator is taken.
    await nodes.hub.inject(keyOf(alice), keyOf(bob), groupUpdateEnvelope({ ...creator, revision: group.revision + 5 }, members));
    await waitFor(() => expect(bob.getGroup(group.id).name).toBe("renamed"));
  });

  it("lets any member leave, lets only admins add members, and lets the creator grant admin", async () => {
    const { alice, bob, mallory, carol, group } = await groupWithMallory();
    expect(() => bob.addGroupMembers(group.id, ["carol"])).toThrow(/only a group admin/);
    mallory.leaveGroup(group.id);
    await waitFor(() => expect(bob.getGroup(group.id).memberUids).not.toContain(mallory.identity().identity.uid));
    expect(drops(bob).refusedGroupUpdates).toBe(0);

    alice.requireUnlocked().groups.grantAdmin(group.id, "bob");
    await waitFor(() => expect(bob.getGroup(group.id).adminUids).toContain(bob.identity().identity.uid));
    const grown = bob.addGroupMembers(group.id, ["carol"]);
    await waitFor(() => expect(alice.getGroup(group.id).memberUids).toEqual(grown.memberUids));
    expect(alice.listContacts().map((c) => c.name)).not.toContain("carol");
    expect(carol.listGroups()).toEqual([]); // first news of a group is taken from its creator only
  });
});

describe("group contacts", () => {
  it("keeps members learned through a group out of the contact list and refuses their direct messages", async () => {
    const { bob, mallory } = await groupWithMallory();
    expect(bob.listContacts().map((c) => c.name).sort()).toEqual(["alice", "carol"]);
    expect(() => bob.getContact("mallory")).toThrow(/unknown contact/);
    const before = drops(bob).notAContact;
    await nodes.hub.inject(keyOf(mallory), keyOf(bob), chatEnvelope({ id: newMessageId(), sequence: 1, sentAt: Date.now(), text: "hi" }));
    await waitFor(() => expect(drops(bob).notAContact).toBe(before + 1));
    expect(bob.requireUnlocked().store.messages.page(mallory.identity().identity.uid, PAGE).messages).toEqual([]);
  });
});

describe("message identity is (sender, id)", () => {
  it("keeps a forged copy of another member's id apart from the real message, and acks each to its own sender only", async () => {
    const { alice, bob, mallory, group } = await groupWithMallory();
    // alice's frames to bob are held back, so mallory's forgery arrives first.
    const held: Buffer[] = [];
    const aliceNet = nodes.hub.endpoints.get(keyOf(alice).toString("hex"));
    if (!aliceNet) throw new Error("no endpoint");
    aliceNet.fate = (to, payload) => {
      if (to !== keyOf(bob).toString("hex") || decodeEnvelope(payload).body.case !== "groupMessage") return "deliver";
      held.push(payload);
      return "lose";
    };
    const real = await alice.sendMessage(group.id, "the real text");
    await waitFor(() => expect(held).toHaveLength(1));

    const forged = groupMessageEnvelope(group.id, { id: real.id, sequence: 1, sentAt: Date.now(), text: "forged text" });
    await nodes.hub.inject(keyOf(mallory), keyOf(bob), forged);
    await waitFor(() => expect(bob.listMessages(group.id, PAGE).messages).toHaveLength(1));
    expect(alice.requireUnlocked().outgoing.ownMessage(real.id)?.state).not.toBe("delivered");

    aliceNet.fate = undefined;
    await nodes.hub.inject(keyOf(alice), keyOf(bob), held[0] as Buffer);
    await waitFor(() => expect(bob.listMessages(group.id, PAGE).messages).toHaveLength(2));
    const stored = bob.listMessages(group.id, PAGE).messages.map((m) => [m.senderUid, m.text]);
    expect(stored).toEqual([
      [mallory.identity().identity.uid, "forged text"],
      [alice.identity().identity.uid, "the real text"],
    ]);
  });
});

describe("a member that never acks", () => {
  const limit = OUTBOX_LIMITS.perRecipient;
  afterEach(() => {
    OUTBOX_LIMITS.perRecipient = limit;
  });

  it("fills only its own outbox: the group keeps sending to the others", async () => {
    const { alice, bob, mallory, group } = await groupWithMallory();
    OUTBOX_LIMITS.perRecipient = 3; // the real bound is 1000; the rule is the same
    const malloryNet = nodes.hub.endpoints.get(keyOf(mallory).toString("hex"));
    if (!malloryNet) throw new Error("no endpoint");
    malloryNet.fate = (_to, payload) => (decodeEnvelope(payload).body.case === "ack" ? "drop" : "deliver");
    const texts = ["one", "two", "three", "four", "five", "six"];
    const pendingTo = (app: SessionApp) => alice.requireUnlocked().store.outbox.pendingCount(app.identity().identity.uid);
    for (const text of texts) {
      await alice.sendMessage(group.id, text);
      await waitFor(() => expect(pendingTo(bob)).toBe(0)); // bob acks each one
    }
    await waitFor(() => expect(bob.listMessages(group.id, PAGE).messages.map((m) => m.text)).toEqual(texts));
    expect(pendingTo(mallory)).toBe(3);
  });
});
