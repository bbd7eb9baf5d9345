import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNode } from "./helpers/cli.js";

interface ContactJson {
  uid: string;
  name: string;
  alias: string;
  fingerprint: string;
  verified: boolean;
  state: string;
}

/** Contact cards (.jcard), aliases, safety numbers, local verification, removal. */
describe("contacts by card", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");

  beforeAll(async () => {
    await Promise.all([alice.init(), bob.init()]);
  });
  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("adds a contact from a .jcard file with an alias, and both sides see the same safety number", async () => {
    const card = join(alice.home, "alice.jcard");
    await alice.ok(["card", "export", card]);
    await bob.ok(["contact", "add", card, "--alias", "al"]);
    await alice.ok(["contact", "add", await bob.linkCode()]);
    const [contact] = await bob.json<ContactJson[]>(["contacts"]);
    const aliceStatus = await alice.json<{ uid: string; fingerprint: string }>(["status"]);
    expect(contact).toMatchObject({ uid: aliceStatus.uid, name: "alice", alias: "al", fingerprint: aliceStatus.fingerprint, verified: false });

    const fromBob = JSON.parse(await bob.ok(["safety", "al", "--json"])) as { safetyNumber: string };
    const fromAlice = JSON.parse(await alice.ok(["safety", "bob", "--json"])) as { safetyNumber: string };
    expect(fromBob.safetyNumber).toMatch(/^\d{60}$/);
    expect(fromAlice.safetyNumber).toBe(fromBob.safetyNumber);

    await bob.ok(["contact", "verify", "al"]);
    expect((await bob.json<ContactJson[]>(["contacts"]))[0]?.verified).toBe(true);
    // Verification is local: alice's view of bob is untouched.
    expect((await alice.json<ContactJson[]>(["contacts"]))[0]?.verified).toBe(false);
  });

  it("refuses a card whose uid or fingerprint does not belong to its key", async () => {
    const card = readFileSync(join(alice.home, "alice.jcard"));
    const tampered = Buffer.from(card);
    const uidAt = tampered.indexOf(Buffer.from((await alice.json<{ uid: string }>(["status"])).uid));
    tampered[uidAt] = tampered[uidAt] === 0x61 ? 0x62 : 0x61;
    const path = join(bob.home, "tampered.jcard");
    writeFileSync(path, tampered);
    const result = await bob.cli(["contact", "add", path]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("jarvis: bad card: uid does not match the key");
    const own = await bob.cli(["contact", "add", await bob.linkCode()]);
    expect(own.stderr.trim()).toBe("jarvis: that is your own link code");
    const again = await bob.cli(["contact", "add", join(alice.home, "alice.jcard")]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already a contact/);
  });

  it("removes a contact", async () => {
    await bob.ok(["contact", "remove", "al"]);
    expect(await bob.json<ContactJson[]>(["contacts"])).toEqual([]);
    const result = await bob.cli(["send", "al", "hello?"]);
    expect(result.stderr.trim()).toBe('jarvis: unknown contact "al"');
  });
});
