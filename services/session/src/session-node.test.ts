import { mkdtempSync, rmSync, truncateSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { profilePaths, silentLogger, systemClock, CorruptStoreError, FakeClock, ResourceExhaustedError, WrongPasswordError } from "@jarvis/core";
import { SessionNode } from "./session-node.js";
import { InMemoryHub } from "./testing/in-memory-network.js";
import { encodeLinkCode, decodeLinkCode } from "./contacts/card-codec.js";
import { chatEnvelope, groupMessageEnvelope } from "./messages/envelopes.js";
import type { StoredEvent } from "./model.js";

// Real encrypted store and real services; a fast KDF keeps the suite quick (the default is tested end to end).
const FAST_KDF = { memoryKiB: 1024, iterations: 1, parallelism: 1 };
const PASSWORD = "a good long password";

const homes: string[] = [];
const nodes: SessionNode[] = [];

afterEach(async () => {
  for (const node of nodes.splice(0)) await node.close();
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newNode(hub: InMemoryHub, home = mkdtempSync(join(tmpdir(), "jv-sn-"))): SessionNode {
  if (!homes.includes(home)) homes.push(home);
  const node = new SessionNode({
    paths: profilePaths(home),
    clock: systemClock,
    logger: silentLogger,
    network: hub.endpoint(),
    listen: "127.0.0.1:0",
    advertise: "",
    kdf: FAST_KDF,
  });
  nodes.push(node);
  return node;
}

async function people(names: string[]) {
  const hub = new InMemoryHub();
  const list = names.map(() => newNode(hub));
  for (const [i, node] of list.entries()) await node.createIdentity(names[i] as string, PASSWORD);
  return { hub, list };
}

function link(a: SessionNode, b: SessionNode): void {
  const ua = a.requireUnlocked();
  const ub = b.requireUnlocked();
  ua.contacts.add(decodeLinkCode(encodeLinkCode(ub.account.ownCard())));
  ub.contacts.add(decodeLinkCode(encodeLinkCode(ua.account.ownCard())));
}

const waitFor = <T>(fn: () => T) => vi.waitFor(fn, { timeout: 5_000, interval: 5 });

describe("SessionNode with the real encrypted store", () => {
  it("drops a group message from a non-member and counts it", async () => {
    const { hub, list } = await people(["alice", "bob", "carol"]);
    const [alice, bob, carol] = list as [SessionNode, SessionNode, SessionNode];
    link(alice, bob);
    link(alice, carol);
    link(bob, carol);
    const group = alice.requireUnlocked().groups.create("pair", ["bob"]);
    await waitFor(() => expect(bob.requireUnlocked().groups.list()).toHaveLength(1));

    // carol has a valid channel to bob but is not a member: her message must not land.
    const carolKey = carol.requireUnlocked().account.identity.publicKey;
    const bobKey = bob.requireUnlocked().account.identity.publicKey;
    const forged = groupMessageEnvelope(group.id, { id: "ab".repeat(16), sequence: 1, sentAt: Date.now(), text: "forged" });
    await hub.inject(carolKey, bobKey, forged);
    // And a message naming a group bob has never heard of.
    await hub.inject(carolKey, bobKey, groupMessageEnvelope("g" + "1".repeat(31), { id: "cd".repeat(16), sequence: 1, sentAt: Date.now(), text: "nope" }));
    const b = bob.requireUnlocked();
    await waitFor(() => expect(b.account.drops.forgedGroupMessages).toBe(2));
    expect(b.account.messages.page(group.id, { before: 0, after: 0, limit: 10 }).messages).toEqual([]);

    // A real member's message still arrives.
    await alice.requireUnlocked().groups.send(group.id, "real");
    await waitFor(() => expect(b.account.messages.page(group.id, { before: 0, after: 0, limit: 10 }).messages.map((m) => m.text)).toEqual(["real"]));
  });

  it("stores a duplicate message once but acks it again, and ignores unknown or malformed envelopes", async () => {
    const { hub, list } = await people(["alice", "bob"]);
    const [alice, bob] = list as [SessionNode, SessionNode];
    link(alice, bob);
    const aliceKey = alice.requireUnlocked().account.identity.publicKey;
    const bobKey = bob.requireUnlocked().account.identity.publicKey;
    await waitFor(() => expect(alice.requireUnlocked().account.connected.size).toBe(1));
    const envelope = chatEnvelope({ id: "ef".repeat(16), sequence: 1, sentAt: Date.now(), text: "once" });
    await hub.inject(aliceKey, bobKey, envelope);
    await hub.inject(aliceKey, bobKey, envelope);
    const b = bob.requireUnlocked();
    const aliceUid = alice.requireUnlocked().account.identity.uid;
    await waitFor(() => expect(b.account.messages.page(aliceUid, { before: 0, after: 0, limit: 10 }).messages.map((m) => m.text)).toEqual(["once"]));
    expect(b.account.messages.unreadCounts().total).toBe(1);

    await hub.inject(aliceKey, bobKey, Buffer.from([0xa0, 0x06, 0x01])); // unknown field 100: an envelope from the future
    await hub.inject(aliceKey, bobKey, Buffer.from([0x12, 0xff])); // truncated: malformed
    await waitFor(() => expect(b.account.drops.malformed).toBe(1));
    await bob.requireUnlocked().messaging.sendDirect(bob.requireUnlocked().contacts.resolve("alice"), "still fine");
    await waitFor(() => expect(alice.requireUnlocked().account.messages.unreadCounts().total).toBe(1));
  });

  it("resumes a subscription from its cursor with no gap and no duplicate while messages arrive", async () => {
    const { list } = await people(["alice", "bob"]);
    const [alice, bob] = list as [SessionNode, SessionNode];
    link(alice, bob);
    const b = bob.requireUnlocked();
    const seen: StoredEvent[] = [];
    const first = new AbortController();
    const sending = (async () => {
      for (let i = 0; i < 40; i++) {
        await alice.requireUnlocked().messaging.sendDirect(alice.requireUnlocked().contacts.resolve("bob"), `m${i}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for await (const event of b.account.events.subscribe(0, first.signal)) {
      seen.push(event);
      if (seen.filter((e) => e.event.type === "message_received").length >= 10) break;
    }
    const cursor = seen.at(-1)?.cursor ?? 0;
    await sending;
    const second = new AbortController();
    const expectedReceived = 40;
    for await (const event of b.account.events.subscribe(cursor, second.signal)) {
      seen.push(event);
      if (seen.filter((e) => e.event.type === "message_received").length >= expectedReceived) break;
    }
    const cursors = seen.map((e) => e.cursor);
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(cursors).toEqual(Array.from({ length: cursors.length }, (_, i) => (cursors[0] as number) + i));
    const texts = seen.flatMap((e) => (e.event.type === "message_received" ? [e.event.message.text] : []));
    expect(texts).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  it("exports, deletes and imports an account with identity, contacts and history", async () => {
    const { hub, list } = await people(["alice", "bob"]);
    const [alice, bob] = list as [SessionNode, SessionNode];
    link(alice, bob);
    const a = alice.requireUnlocked();
    await a.messaging.sendDirect(a.contacts.resolve("bob"), "remember me");
    const uid = a.account.identity.uid;
    const archive = await alice.exportAccount(PASSWORD);
    expect(archive.includes(Buffer.from("remember me"))).toBe(false);
    await expect(alice.deleteIdentity("wrong password!")).rejects.toBeInstanceOf(WrongPasswordError);
    await alice.deleteIdentity(PASSWORD);
    expect(alice.status().identityExists).toBe(false);

    const restored = newNode(hub);
    await expect(restored.importAccount(archive, "wrong password!")).rejects.toBeInstanceOf(WrongPasswordError);
    const identity = await restored.importAccount(archive, PASSWORD);
    expect(identity.uid).toBe(uid);
    const r = restored.requireUnlocked();
    expect(r.contacts.list().map((c) => c.name)).toEqual(["bob"]);
    expect(r.account.messages.page(r.contacts.resolve("bob").uid, { before: 0, after: 0, limit: 5 }).messages.map((m) => m.text)).toEqual(["remember me"]);
    await expect(restored.importAccount(archive, PASSWORD)).rejects.toThrow(/already has an identity/);
  });

  it("changes the password: the old one stops working, the new one opens everything", async () => {
    const hub = new InMemoryHub();
    const home = mkdtempSync(join(tmpdir(), "jv-pw-"));
    const node = newNode(hub, home);
    await node.createIdentity("alice", PASSWORD);
    await expect(node.changePassword("not it at all", "another password")).rejects.toBeInstanceOf(WrongPasswordError);
    await node.changePassword(PASSWORD, "another good password");
    await node.lock();
    await expect(node.unlock(PASSWORD)).rejects.toBeInstanceOf(WrongPasswordError);
    expect((await node.unlock("another good password")).name).toBe("alice");
    expect(existsSync(join(home, "keyfile.new"))).toBe(false);
  });

  it("refuses a truncated store with a clear error and never recreates it", async () => {
    const hub = new InMemoryHub();
    const home = mkdtempSync(join(tmpdir(), "jv-cs-"));
    const node = newNode(hub, home);
    await node.createIdentity("alice", PASSWORD);
    await node.lock();
    const store = join(home, "store.db");
    truncateSync(store, 1000);
    await expect(node.unlock(PASSWORD)).rejects.toBeInstanceOf(CorruptStoreError);
    expect(statSync(store).size).toBe(1000);
    await expect(node.createIdentity("alice", PASSWORD)).rejects.toThrow(/already exists/);
  });

  it("answers FAILED_PRECONDITION-style errors before unlock", async () => {
    const hub = new InMemoryHub();
    const node = newNode(hub);
    expect(() => node.requireUnlocked()).toThrow(/no identity yet/);
    await node.createIdentity("alice", PASSWORD);
    await node.lock();
    expect(() => node.requireUnlocked()).toThrow(/locked/);
  });
});

describe("outbox limits, paging and presence", () => {
  it("marks a message failed after 7 days undelivered and refuses more than 1000 queued per contact", async () => {
    const hub = new InMemoryHub();
    const clock = new FakeClock(Date.now());
    const home = mkdtempSync(join(tmpdir(), "jv-ob-"));
    homes.push(home);
    const node = new SessionNode({ paths: profilePaths(home), clock, logger: silentLogger, network: hub.endpoint(), listen: "127.0.0.1:0", advertise: "", kdf: FAST_KDF });
    nodes.push(node);
    const { list } = await people(["bob"]);
    await node.createIdentity("alice", PASSWORD);
    const bob = list[0] as SessionNode;
    const u = node.requireUnlocked();
    u.contacts.add(decodeLinkCode(encodeLinkCode(bob.requireUnlocked().account.ownCard())));
    const contact = u.contacts.resolve("bob");
    const first = await u.messaging.sendDirect(contact, "will expire");
    expect(first.state).toBe("queued");
    clock.advance(7 * 24 * 60 * 60 * 1000 + 60 * 60 * 1000);
    expect(u.account.messages.get(first.id)?.state).toBe("failed");

    for (let i = 0; i < 1000; i++) await u.messaging.sendDirect(contact, `m${i}`);
    await expect(u.messaging.sendDirect(contact, "one too many")).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it("pages a conversation with before/after cursors", async () => {
    const { list } = await people(["alice", "bob"]);
    const [alice, bob] = list as [SessionNode, SessionNode];
    link(alice, bob);
    const a = alice.requireUnlocked();
    const contact = a.contacts.resolve("bob");
    for (let i = 0; i < 25; i++) await a.messaging.sendDirect(contact, `p${i}`);
    const newest = a.account.messages.page(contact.uid, { before: 0, after: 0, limit: 10 });
    expect(newest.messages.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `p${15 + i}`));
    expect(newest.hasMore).toBe(true);
    const older = a.account.messages.page(contact.uid, { before: newest.messages[0]?.position ?? 0, after: 0, limit: 10 });
    expect(older.messages.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `p${5 + i}`));
    const oldest = a.account.messages.page(contact.uid, { before: older.messages[0]?.position ?? 0, after: 0, limit: 10 });
    expect(oldest.messages.map((m) => m.text)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(oldest.hasMore).toBe(false);
    const after = a.account.messages.page(contact.uid, { before: 0, after: oldest.messages[4]?.position ?? 0, limit: 3 });
    expect(after.messages.map((m) => m.text)).toEqual(["p5", "p6", "p7"]);
    expect(after.hasMore).toBe(true);
  });

  it("computes group presence: green when all others are connected, amber when some, red when none, grey without a listener", async () => {
    const { hub, list } = await people(["alice", "bob", "carol"]);
    const [alice, bob, carol] = list as [SessionNode, SessionNode, SessionNode];
    link(alice, bob);
    link(alice, carol);
    const a = alice.requireUnlocked();
    const group = a.groups.create("three", ["bob", "carol"]);
    await waitFor(() => expect(a.account.groupPresence(group)).toBe("green"));
    await carol.lock();
    await waitFor(() => expect(a.account.groupPresence(group)).toBe("amber"));
    await bob.lock();
    await waitFor(() => expect(a.account.groupPresence(group)).toBe("red"));
    // Our own listener going away turns everything grey: nobody can reach us.
    const endpoint = [...hub.endpoints.values()].find((e) => e.publicKey?.equals(a.account.identity.publicKey));
    if (!endpoint) throw new Error("alice has no endpoint");
    endpoint.available = false;
    expect(a.account.groupPresence(group)).toBe("grey");
    expect(a.account.presenceOf(a.contacts.resolve("bob").uid)).toBe("grey");
  });
});

describe("read receipts", () => {
  it("sends them by default and not to a contact they are turned off for", async () => {
    const { list } = await people(["alice", "bob"]);
    const [alice, bob] = list as [SessionNode, SessionNode];
    link(alice, bob);
    const a = alice.requireUnlocked();
    const b = bob.requireUnlocked();
    const first = await a.messaging.sendDirect(a.contacts.resolve("bob"), "read me");
    await waitFor(() => expect(a.account.messages.get(first.id)?.state).toBe("delivered"));
    expect(b.messaging.markRead(b.contacts.resolve("alice").uid)).toBe(1);
    await waitFor(() => expect(a.account.messages.get(first.id)?.state).toBe("read"));

    b.contacts.update("alice", { sendReceipts: false });
    const second = await a.messaging.sendDirect(a.contacts.resolve("bob"), "read me quietly");
    await waitFor(() => expect(a.account.messages.get(second.id)?.state).toBe("delivered"));
    expect(b.messaging.markRead(b.contacts.resolve("alice").uid)).toBe(1);
    // Another round trip: anything bob sends after the read would arrive after a receipt.
    const ping = await b.messaging.sendDirect(b.contacts.resolve("alice"), "after reading");
    await waitFor(() => expect(b.account.messages.get(ping.id)?.state).toBe("delivered"));
    expect(a.account.messages.get(second.id)?.state).toBe("delivered");
    expect(b.account.messages.unreadCounts().total).toBe(0);
  });
});
