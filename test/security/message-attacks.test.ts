import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { fingerprintOf, newMessageId, uidFromPublicKey } from "@jarvis/core";
import { decodeLinkCode, encodeLinkCode } from "@jarvis/session/testing";
import { generateKeyPair, RawNoisePeer, type KeyPair } from "../helpers/network.js";
import { eventually, TestNode } from "../helpers/cli.js";

/**
 * Issue 15, message identity and receiver rules, against a real node (bob, `jarvis up`). The
 * other nodes are raw Noise peers with their own keys, driven by the test.
 */
interface Person {
  keys: KeyPair;
  uid: string;
  name: string;
}

const person = (name: string): Person => {
  const keys = generateKeyPair();
  return { keys, uid: uidFromPublicKey(Buffer.from(keys.publicKey)), name };
};
const linkCodeOf = (p: Person) => encodeLinkCode({ uid: p.uid, name: p.name, publicKey: Buffer.from(p.keys.publicKey), addresses: [], fingerprint: fingerprintOf(Buffer.from(p.keys.publicKey)) });
const envelope = (body: Envelope["body"]) => toBinary(EnvelopeSchema, create(EnvelopeSchema, { body }));
const hello = (name: string) => envelope({ case: "hello", value: { $typeName: "jarvis.peer.v1.Hello", protocolVersion: 1, capabilities: [], displayName: name, advertisedAddress: "", replyRequested: false } });
const chat = (id: string, text: string, sentAtMs = BigInt(Date.now())) =>
  envelope({ case: "chatMessage", value: { $typeName: "jarvis.peer.v1.ChatMessage", messageId: id, sequence: 1n, sentAtMs, text } });
const bodies = (peer: RawNoisePeer) => peer.payloads.map((p) => fromBinary(EnvelopeSchema, p).body);
const acked = (peer: RawNoisePeer, id: string) => bodies(peer).some((b) => b.case === "ack" && b.value.messageIds.includes(id));

interface Entry {
  from: string;
  text: string;
  sentAt: string;
}

describe("message identity and receiver rules against a real node", () => {
  const bob = new TestNode("bob");
  const alice = person("alice");
  const mallory = person("mallory");
  const carol = person("carol");
  let bobAddress = "";
  const peers: RawNoisePeer[] = [];

  beforeAll(async () => {
    await bob.init();
    for (const p of [alice, mallory, carol]) await bob.ok(["contact", "add", linkCodeOf(p)]);
    bobAddress = decodeLinkCode(await bob.linkCode()).addresses[0] ?? "";
  }, 60_000);
  afterAll(async () => {
    for (const peer of peers) peer.destroy();
    await bob.destroy();
  });

  const dial = async (p: Person, greet = true) => {
    const peer = await RawNoisePeer.dial(bobAddress, p.keys);
    peers.push(peer);
    if (greet) peer.send(hello(p.name));
    return peer;
  };

  it("keeps a member's forged copy of another member's message id apart, and acks each to its own sender", async () => {
    const groupId = (await bob.ok(["group", "create", "team", "alice", "mallory"])).trim();
    const toAlice = await dial(alice);
    const toMallory = await dial(mallory);
    // Both learn the group from bob (its creator) once their channels are up.
    for (const peer of [toAlice, toMallory]) await eventually(async () => bodies(peer).some((b) => b.case === "groupUpdate") || undefined, 20_000, "the group update");
    const id = newMessageId();
    const groupMessage = (text: string) =>
      envelope({ case: "groupMessage", value: { $typeName: "jarvis.peer.v1.GroupMessage", groupId, messageId: id, sequence: 1n, sentAtMs: BigInt(Date.now()), text } });
    toMallory.send(groupMessage("forged text"));
    await eventually(async () => acked(toMallory, id) || undefined, 20_000, "bob's ack to mallory");
    expect(acked(toAlice, id)).toBe(false); // mallory's copy acknowledged nothing of alice's

    toAlice.send(groupMessage("the real text"));
    await eventually(async () => acked(toAlice, id) || undefined, 20_000, "bob's ack to alice");
    const history = await bob.json<Entry[]>(["history", groupId]);
    expect(history.map((m) => [m.from, m.text])).toEqual([
      [mallory.uid, "forged text"],
      [alice.uid, "the real text"],
    ]);
  }, 90_000);

  it("stores a message sent at 2^63-1 ms with its receive time, and history still prints", async () => {
    const toAlice = peers[0] as RawNoisePeer;
    const id = newMessageId();
    const before = Date.now();
    toAlice.send(chat(id, "from the end of time", 2n ** 63n - 1n));
    await eventually(async () => acked(toAlice, id) || undefined, 20_000, "bob's ack");
    const text = await bob.ok(["history", "alice"]);
    expect(text).toContain("from the end of time");
    const [entry] = await bob.json<Entry[]>(["history", "alice"]);
    expect(Date.parse(entry?.sentAt ?? "")).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(entry?.sentAt ?? "")).toBeLessThanOrEqual(Date.now());
  }, 60_000);

  it("refuses a chat before the channel's Hello (no ack, asks for Hello), and takes it after", async () => {
    const toCarol = await dial(carol, false);
    const id = newMessageId();
    toCarol.send(chat(id, "before hello"));
    const ask = await eventually(async () => bodies(toCarol).find((b) => b.case === "hello" && b.value.replyRequested), 20_000, "a Hello asking for ours");
    expect(ask).toBeDefined();
    expect(acked(toCarol, id)).toBe(false);
    expect(await bob.json<Entry[]>(["history", "carol"])).toEqual([]);

    toCarol.send(hello("carol"));
    toCarol.send(chat(id, "before hello"));
    await eventually(async () => acked(toCarol, id) || undefined, 20_000, "bob's ack after Hello");
    expect((await bob.json<Entry[]>(["history", "carol"])).map((m) => m.text)).toEqual(["before hello"]);
  }, 60_000);
});
