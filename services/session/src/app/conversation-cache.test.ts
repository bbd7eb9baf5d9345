import { afterEach, describe, expect, it, vi } from "vitest";
import { InvalidArgumentError, NotFoundError } from "@jarvis/core";
import { TestNodes, link } from "../testing/test-nodes.js";
import { connected } from "../testing/trust-fixtures.js";
import type { SessionApp } from "./session-app.js";

// The conversation cache over real sessions (real encrypted stores): it must answer exactly
// what a fresh lookup would, across every change of contacts and groups, while repeated sends
// to the same name stop listing the contacts and groups tables.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

const uid = (app: SessionApp) => app.identity().identity.uid;

function errorOf(call: () => unknown): { type: string; code: string } {
  try {
    call();
  } catch (error) {
    if (error instanceof InvalidArgumentError || error instanceof NotFoundError) return { type: error.constructor.name, code: error.code };
    throw error;
  }
  return { type: "none", code: "" };
}

describe("conversation references are resolved once per change of contacts or groups", () => {
  it("sending to the same name again and again lists contacts and groups once", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    // Once connected, bob's Hello has been recorded (a contact write, which empties the cache).
    await connected(alice, bob);
    const u = alice.requireUnlocked();
    const contactLookups = vi.spyOn(u.contacts, "resolve");
    const groupLookups = vi.spyOn(u.groups, "resolve");
    const sent = [];
    for (let i = 0; i < 20; i++) sent.push(await alice.sendMessage("bob", `hello ${i}`));
    expect(sent.every((m) => m.conversationId === uid(bob))).toBe(true);
    expect(contactLookups).toHaveBeenCalledTimes(1);
    expect(groupLookups).toHaveBeenCalledTimes(1);
  });

  it("a contact renamed, a group created with the same name and a contact removed each change the answer at once", async () => {
    const [alice, bob, carol] = (await nodes.people(["alice", "bob", "carol"])).map((n) => n.app) as [SessionApp, SessionApp, SessionApp];
    link(alice, bob);
    link(alice, carol);
    expect((await alice.sendMessage("bob", "to bob")).conversationId).toBe(uid(bob));
    expect(errorOf(() => alice.sendMessage("robert", "nobody yet"))).toEqual({ type: "NotFoundError", code: "unknown-contact" });

    // An alias is looked up before a name: "bob" now means carol, and "robert" means bob.
    alice.updateContact(uid(carol), { alias: "bob" });
    alice.updateContact(uid(bob), { alias: "robert" });
    expect((await alice.sendMessage("bob", "to carol")).conversationId).toBe(uid(carol));
    expect((await alice.sendMessage("robert", "to bob")).conversationId).toBe(uid(bob));

    // A group that shares a contact's name makes the bare name ambiguous.
    const group = alice.createGroup("robert", ["bob"]);
    expect(errorOf(() => alice.listMessages("robert", { before: 0, after: 0, limit: 10 }))).toEqual({ type: "InvalidArgumentError", code: "ambiguous-conversation" });
    expect((await alice.sendMessage("group:robert", "to the group")).conversationId).toBe(group.id);

    // Deleting the group and removing the contact: the name resolves to nothing again.
    alice.deleteGroup(group.id);
    alice.removeContact(uid(bob));
    expect(errorOf(() => alice.listMessages("robert", { before: 0, after: 0, limit: 10 }))).toEqual({ type: "NotFoundError", code: "unknown-contact" });
    expect((await alice.sendMessage("bob", "still carol")).conversationId).toBe(uid(carol));
  });
});
