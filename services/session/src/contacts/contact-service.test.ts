import { afterEach, describe, expect, it } from "vitest";
import { encodeLinkCode } from "./card-codec.js";
import { TestNodes } from "../testing/test-nodes.js";
import { keyOf } from "../testing/trust-fixtures.js";
import type { SessionApp } from "../app/session-app.js";

let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

describe("ContactService.byKey", () => {
  // byKey remembers a key's uid, never its contact: what it answers follows the contacts table.
  it("answers with the contact as it is now: none before adding, none after removing, the new one after adding again", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    const contacts = bob.requireUnlocked().contacts;
    const aliceKey = keyOf(alice);
    expect(contacts.byKey(aliceKey)).toBeUndefined();

    bob.addContact({ linkCode: encodeLinkCode(alice.identity().card) }, "");
    expect(contacts.byKey(aliceKey)?.uid).toBe(alice.identity().identity.uid);
    expect(contacts.byKey(Buffer.from(aliceKey))?.name).toBe("alice");

    bob.removeContact("alice");
    expect(contacts.byKey(aliceKey)).toBeUndefined();

    bob.addContact({ linkCode: encodeLinkCode(alice.identity().card) }, "ally");
    expect(contacts.byKey(aliceKey)?.alias).toBe("ally");
    expect(contacts.byKey(keyOf(bob))).toBeUndefined();
  });
});
