import { truncateSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CorruptStoreError, FakeClock, ResourceExhaustedError, WrongPasswordError } from "@jarvis/core";
import { TestNodes, TEST_PASSWORD, link, type TestNode } from "../testing/test-nodes.js";
import { createTestProfile } from "../testing/test-profile.js";
import { chatEnvelope, groupMessageEnvelope } from "../messages/envelopes.js";
import type { StoredEvent } from "../model.js";
import { encodeLinkCode } from "../contacts/card-codec.js";
import type { SessionApp } from "./session-app.js";
import { OUTBOX_LIMITS } from "../constants.js";

// Real encrypted store and real services; only the remote side of the network is in memory.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

const waitFor = <T>(fn: () => T) => vi.waitFor(fn, { timeout: 5_000, interval: 5 });
const texts = (page: { messages: { text: string }[] }) => page.messages.map((m) => m.text);
const PAGE = { before: 0, after: 0, limit: 10 };
/** Unlocked apps named in order (up to three). */
const apps = async (names: string[]) => (await nodes.people(names)).map((n) => n.app) as [SessionApp, SessionApp, SessionApp];
const state = (app: SessionApp, id: string) => app.requireUnlocked().outgoing.ownMessage(id)?.state;

describe("SessionApp with the real encrypted store", () => {
  it("drops a group message from a non-member and counts it", async () => {
    const [alice, bob, carol] = await apps(["alice", "bob", "carol"]);
    link(alice, bob);
    link(alice, carol);
    link(bob, carol);
    const group = alice.createGroup("pair", ["bob"]);
    await waitFor(() => expect(bob.listGroups()).toHaveLength(1));

    // carol has a valid channel to bob but is not a member: her message must not land.
    const carolKey = carol.identity().identity.publicKey;
    const bobKey = bob.identity().identity.publicKey;
    const forged = groupMessageEnvelope(group.id, { id: "ab".repeat(16), sequence: 1, sentAt: Date.now(), text: "forged" });
    await nodes.hub.inject(carolKey, bobKey, forged);
    // And a message naming a group bob has never heard of.
    await nodes.hub.inject(carolKey, bobKey, groupMessageEnvelope("g" + "1".repeat(31), { id: "cd".repeat(16), sequence: 1, sentAt: Date.now(), text: "nope" }));
    await waitFor(() => expect(bob.requireUnlocked().drops.forgedGroupMessages).toBe(2));
    expect(bob.listMessages(group.id, PAGE).messages).toEqual([]);

    // A real member's message still arrives.
    await alice.sendMessage(group.id, "real");
    await waitFor(() => expect(texts(bob.listMessages(group.id, PAGE))).toEqual(["real"]));
  });

  it("stores a duplicate message once but acks it again, and ignores unknown or malformed envelopes", async () => {
    const [alice, bob] = await apps(["alice", "bob"]);
    link(alice, bob);
    const aliceKey = alice.identity().identity.publicKey;
    const bobKey = bob.identity().identity.publicKey;
    await waitFor(() => expect(alice.requireUnlocked().presence.connectedCount).toBe(1));
    const envelope = chatEnvelope({ id: "ef".repeat(16), sequence: 1, sentAt: Date.now(), text: "once" });
    await nodes.hub.inject(aliceKey, bobKey, envelope);
    await nodes.hub.inject(aliceKey, bobKey, envelope);
    await waitFor(() => expect(texts(bob.listMessages("alice", PAGE))).toEqual(["once"]));
    expect(bob.unreadCounts().total).toBe(1);

    await nodes.hub.inject(aliceKey, bobKey, Buffer.from([0xa0, 0x06, 0x01])); // unknown field 100: an envelope from the future
    await nodes.hub.inject(aliceKey, bobKey, Buffer.from([0x12, 0xff])); // truncated: malformed
    await waitFor(() => expect(bob.requireUnlocked().drops.malformed).toBe(1));
    await bob.sendMessage("alice", "still fine");
    await waitFor(() => expect(alice.unreadCounts().total).toBe(1));
  });

  it("resumes a subscription from its cursor with no gap and no duplicate while messages arrive", async () => {
    const [alice, bob] = await apps(["alice", "bob"]);
    link(alice, bob);
    const seen: StoredEvent[] = [];
    const sending = (async () => {
      for (let i = 0; i < 40; i++) {
        await alice.sendMessage("bob", `m${i}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const received = () => seen.filter((e) => e.event.type === "message_received").length;
    for await (const event of bob.subscribe(0, false, new AbortController().signal)) {
      seen.push(event);
      if (received() >= 10) break;
    }
    const cursor = seen.at(-1)?.cursor ?? 0;
    await sending;
    for await (const event of bob.subscribe(cursor, false, new AbortController().signal)) {
      seen.push(event);
      if (received() >= 40) break;
    }
    const cursors = seen.map((e) => e.cursor);
    expect(cursors).toEqual(Array.from({ length: cursors.length }, (_, i) => (cursors[0] as number) + i));
    const got = seen.flatMap((e) => (e.event.type === "message_received" ? [e.event.message.text] : []));
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  it("exports, deletes and imports an account with identity, contacts and history", async () => {
    const [alice, bob] = await apps(["alice", "bob"]);
    link(alice, bob);
    await alice.sendMessage("bob", "remember me");
    const uid = alice.identity().identity.uid;
    const archive = await alice.exportAccount(TEST_PASSWORD);
    expect(archive.includes(Buffer.from("remember me"))).toBe(false);
    await expect(alice.deleteIdentity("wrong password!")).rejects.toBeInstanceOf(WrongPasswordError);
    await alice.deleteIdentity(TEST_PASSWORD);
    expect(alice.status().identityExists).toBe(false);

    const restored = nodes.node().app;
    await expect(restored.importAccount(archive, "wrong password!")).rejects.toBeInstanceOf(WrongPasswordError);
    const identity = await restored.importAccount(archive, TEST_PASSWORD);
    expect(identity.uid).toBe(uid);
    expect(restored.listContacts().map((c) => c.name)).toEqual(["bob"]);
    expect(texts(restored.listMessages("bob", PAGE))).toEqual(["remember me"]);
    await expect(restored.importAccount(archive, TEST_PASSWORD)).rejects.toThrow(/already has an identity/);
  });

  it("changes the password: the old one stops working, the new one opens everything", async () => {
    const { app, home } = await nodes.person("alice");
    await expect(app.changePassword("not it at all", "another password")).rejects.toBeInstanceOf(WrongPasswordError);
    await app.changePassword(TEST_PASSWORD, "another good password");
    await app.lock();
    await expect(app.unlock(TEST_PASSWORD)).rejects.toBeInstanceOf(WrongPasswordError);
    expect((await app.unlock("another good password")).name).toBe("alice");
    expect(existsSync(join(home, "keyfile.new"))).toBe(false);
  });

  it("refuses a truncated store with a clear error and never recreates it", async () => {
    const { app, home } = await nodes.person("alice");
    await app.lock();
    const store = join(home, "store.db");
    truncateSync(store, 1000);
    await expect(app.unlock(TEST_PASSWORD)).rejects.toBeInstanceOf(CorruptStoreError);
    expect(statSync(store).size).toBe(1000);
    await expect(app.createIdentity("alice", TEST_PASSWORD)).rejects.toThrow(/already exists/);
  });

  it("answers FAILED_PRECONDITION-style errors before unlock", async () => {
    const { app, home } = nodes.node();
    expect(() => app.requireUnlocked()).toThrow(/no identity yet/);
    await createTestProfile(home, { name: "alice", password: TEST_PASSWORD });
    expect(() => app.listContacts()).toThrow(/locked/);
  });

  it("unlocks with the KDF parameters the keyfile records and reports them as weak", async () => {
    const { app, home } = nodes.node();
    await createTestProfile(home, { name: "cheap", password: TEST_PASSWORD, kdf: { memoryKiB: 2048, iterations: 1, parallelism: 1 } });
    expect(app.status()).toMatchObject({ identityExists: true, locked: true, weakKdf: true });
    expect((await app.unlock(TEST_PASSWORD)).name).toBe("cheap");
  });
});

describe("outbox limits, paging and presence", () => {
  it("marks a message failed after 7 days undelivered and refuses more than 1000 queued per contact", async () => {
    const clock = new FakeClock(Date.now());
    const alice = (await nodes.person("alice", { clock })).app;
    const bob = (await nodes.person("bob")).app;
    alice.addContact({ linkCode: encodeLinkCode(bob.identity().card) }, "");
    await bob.lock(); // bob is offline: nothing is ever delivered
    const first = await alice.sendMessage("bob", "will expire");
    expect(first.state).toBe("queued");
    clock.advance(7 * 24 * 60 * 60 * 1000 + 60 * 60 * 1000);
    expect(alice.requireUnlocked().outgoing.ownMessage(first.id)?.state).toBe("failed");

    for (let i = 0; i < 1000; i++) await alice.sendMessage("bob", `m${i}`);
    await expect(alice.sendMessage("bob", "one too many")).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it("pages a conversation with before/after cursors", async () => {
    const [alice, bob] = await apps(["alice", "bob"]);
    link(alice, bob);
    for (let i = 0; i < 25; i++) await alice.sendMessage("bob", `p${i}`);
    const newest = alice.listMessages("bob", PAGE);
    expect(texts(newest)).toEqual(Array.from({ length: 10 }, (_, i) => `p${15 + i}`));
    expect(newest.hasMore).toBe(true);
    const older = alice.listMessages("bob", { before: newest.messages[0]?.position ?? 0, after: 0, limit: 10 });
    expect(texts(older)).toEqual(Array.from({ length: 10 }, (_, i) => `p${5 + i}`));
    const oldest = alice.listMessages("bob", { before: older.messages[0]?.position ?? 0, after: 0, limit: 10 });
    expect(texts(oldest)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(oldest.hasMore).toBe(false);
    const after = alice.listMessages("bob", { before: 0, after: oldest.messages[4]?.position ?? 0, limit: 3 });
    expect(texts(after)).toEqual(["p5", "p6", "p7"]);
    expect(after.hasMore).toBe(true);
  });

  it("computes group presence: green when all others are connected, amber when some, red when none, grey without a listener", async () => {
    const [a, b, c] = (await nodes.people(["alice", "bob", "carol"])) as [TestNode, TestNode, TestNode];
    const [alice, bob, carol] = [a.app, b.app, c.app];
    link(alice, bob);
    link(alice, carol);
    const group = alice.createGroup("three", ["bob", "carol"]);
    await waitFor(() => expect(alice.getGroup(group.id).presence).toBe("green"));
    await carol.lock();
    await waitFor(() => expect(alice.getGroup(group.id).presence).toBe("amber"));
    await bob.lock();
    await waitFor(() => expect(alice.getGroup(group.id).presence).toBe("red"));
    // Our own listener going away turns everything grey: nobody can reach us.
    a.network.available = false;
    expect(alice.getGroup(group.id).presence).toBe("grey");
    expect(alice.getContact("bob").presence).toBe("grey");
  });
});

describe("read receipts", () => {
  it("sends them by default and not to a contact they are turned off for", async () => {
    const [alice, bob] = await apps(["alice", "bob"]);
    link(alice, bob);
    const first = await alice.sendMessage("bob", "read me");
    await waitFor(() => expect(state(alice, first.id)).toBe("delivered"));
    expect(await bob.markRead("alice")).toBe(1);
    await waitFor(() => expect(state(alice, first.id)).toBe("read"));

    bob.updateContact("alice", { sendReceipts: false });
    const second = await alice.sendMessage("bob", "read me quietly");
    await waitFor(() => expect(state(alice, second.id)).toBe("delivered"));
    expect(await bob.markRead("alice")).toBe(1);
    // Another round trip: anything bob sends after the read would arrive after a receipt.
    const ping = await bob.sendMessage("alice", "after reading");
    await waitFor(() => expect(state(bob, ping.id)).toBe("delivered"));
    expect(state(alice, second.id)).toBe("delivered");
    expect(bob.unreadCounts().total).toBe(0);
  });

  it("a send refused as busy is turned away before the group commit: nothing is rolled back, nothing stored", async () => {
    const clock = new FakeClock(); // still: bob keeps counting as acking lately
    const alice = await nodes.person("alice", { clock });
    const bob = await nodes.person("bob");
    link(alice.app, bob.app);
    const bobUid = bob.app.identity().identity.uid;
    const first = await alice.app.sendMessage(bobUid, "first");
    await waitFor(() => expect(state(alice.app, first.id)).toBe("delivered"));
    alice.network.fate = () => "lose"; // nothing is acked from now on
    await Promise.all(Array.from({ length: OUTBOX_LIMITS.busyBacklog }, (_, i) => alice.app.sendMessage(bobUid, `m${i}`)));
    const { uow } = alice.app.requireUnlocked().store;
    let rollbacks = 0;
    uow.onRollback(() => rollbacks++);
    const stored = () => alice.app.listMessages(bobUid, { before: 0, after: 0, limit: 500 }).messages.length;
    const before = stored();
    for (let i = 0; i < 3; i++) {
      const refused = await alice.app.sendMessage(bobUid, "one too many").catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ResourceExhaustedError);
      expect((refused as ResourceExhaustedError).code).toBe("busy");
    }
    expect(rollbacks).toBe(0);
    expect(stored()).toBe(before);
  });
});
