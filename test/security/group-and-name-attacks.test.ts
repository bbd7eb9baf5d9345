import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { ContactCardSchema } from "@jarvis/proto/jarvis/peer/v1/card";
import { fingerprintOf, newMessageId, uidFromPublicKey } from "@jarvis/core";
import { decodeLinkCode, encodeLinkCode } from "@jarvis/session/testing";
import { generateKeyPair, RawNoisePeer, type KeyPair } from "../helpers/network.js";
import { eventually, TestNode } from "../helpers/cli.js";

/**
 * Issue 15 against a real node (`jarvis up`: daemon, network and session processes): the
 * victim is bob; alice (the group's creator) and mallory (a plain member) are raw Noise peers
 * driven by the test with their own keys, so they can send anything a hostile node could.
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
const cardOf = (p: Person) =>
  create(ContactCardSchema, { version: 1, uid: p.uid, name: p.name, publicKey: p.keys.publicKey, addresses: [], fingerprint: fingerprintOf(Buffer.from(p.keys.publicKey)) });
const linkCodeOf = (p: Person) => encodeLinkCode({ uid: p.uid, name: p.name, publicKey: Buffer.from(p.keys.publicKey), addresses: [], fingerprint: fingerprintOf(Buffer.from(p.keys.publicKey)) });
const envelope = (body: Envelope["body"]) => toBinary(EnvelopeSchema, create(EnvelopeSchema, { body }));
const hello = (name: string) => envelope({ case: "hello", value: { $typeName: "jarvis.peer.v1.Hello", protocolVersion: 1, capabilities: [], displayName: name, advertisedAddress: "", replyRequested: false } });

/** Waits until bob has acked `ackId` to this peer: proof that bob processed (stored or refused) it. */
async function ackFor(peer: RawNoisePeer, ackId: string): Promise<void> {
  await eventually(async () => {
    const acked = peer.payloads.some((p) => {
      const body = fromBinary(EnvelopeSchema, p).body;
      return body.case === "ack" && body.value.messageIds.includes(ackId);
    });
    return acked || undefined;
  }, 20_000, `an ack for ${ackId}`);
}

describe("hostile group members and contacts against a real node", () => {
  const bob = new TestNode("bob");
  const alice = person("alice");
  const mallory = person("mallory");
  const carol = person("carol");
  const eve = person("carol"); // mallory's second key, carrying the name of bob's contact carol
  const groupId = "g" + "5".repeat(31);
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

  const dial = async (p: Person) => {
    const peer = await RawNoisePeer.dial(bobAddress, p.keys);
    peers.push(peer);
    peer.send(hello(p.name));
    return peer;
  };
  const update = (revision: bigint, members: Person[], admins: string[]) =>
    envelope({
      case: "groupUpdate",
      value: { $typeName: "jarvis.peer.v1.GroupUpdate", groupId, name: "team", members: members.map(cardOf), creatorUid: alice.uid, revision, adminUids: admins },
    });
  const groupMessage = (text: string) =>
    envelope({ case: "groupMessage", value: { $typeName: "jarvis.peer.v1.GroupMessage", groupId, messageId: newMessageId(), sequence: 1n, sentAtMs: BigInt(Date.now()), text } });

  it("refuses a plain member's update that drops the creator and adds its own key under a contact's name; the creator still gets through", async () => {
    const toAlice = await dial(alice);
    const bobDecoded = decodeLinkCode(await bob.linkCode());
    const bobPerson = { ...bobDecoded, keys: { publicKey: bobDecoded.publicKey } } as unknown as Person;
    toAlice.send(update(1n, [alice, bobPerson, mallory], [alice.uid]));
    await ackFor(toAlice, `${groupId}:1`);
    const groups = await bob.json<{ id: string; members: string[] }[]>(["groups"]);
    expect(groups.map((g) => g.id)).toEqual([groupId]);

    const toMallory = await dial(mallory);
    toMallory.send(update(2n, [bobPerson, mallory, eve], [mallory.uid]));
    await ackFor(toMallory, `${groupId}:2`);
    const after = await bob.json<{ id: string; members: string[] }[]>(["groups"]);
    expect([...(after[0]?.members ?? [])].sort()).toEqual([alice.uid, bobDecoded.uid, mallory.uid].sort());
    const contacts = await bob.json<{ uid: string }[]>(["contacts"]);
    expect(contacts.map((c) => c.uid)).not.toContain(eve.uid);

    toAlice.send(groupMessage("creator still heard"));
    const history = await eventually(async () => {
      const out = await bob.ok(["history", groupId]);
      return out.includes("creator still heard") ? out : undefined;
    }, 20_000, "alice's message after the attack");
    expect(history).toMatch(/alice: creator still heard/);
  }, 90_000);

  it("shows a contact that announces another contact's name under its own name, with the claim apart", async () => {
    const toMallory = peers[1] as RawNoisePeer;
    toMallory.send(hello("carol"));
    toMallory.send(groupMessage("it is me, carol"));
    const history = await eventually(async () => {
      const out = await bob.ok(["history", groupId]);
      return out.includes("it is me, carol") ? out : undefined;
    }, 20_000, "mallory's message");
    expect(history).toMatch(/mallory: it is me, carol/);
    expect(history).not.toMatch(/carol: it is me/);
    const contacts = await bob.json<{ name: string; claimedName: string }[]>(["contacts"]);
    expect(contacts.find((c) => c.name === "mallory")?.claimedName).toBe("carol");
    expect(contacts.filter((c) => c.name === "carol")).toHaveLength(1);
  }, 60_000);

  it("tells apart, in group history, two contacts with the same name and a contact called \"me\"", async () => {
    const carol2 = person("carol");
    const me = person("me");
    for (const p of [carol2, me]) await bob.ok(["contact", "add", linkCodeOf(p)]);
    const bobDecoded = decodeLinkCode(await bob.linkCode());
    const bobPerson = { ...bobDecoded, keys: { publicKey: bobDecoded.publicKey } } as unknown as Person;
    const toAlice = peers[0] as RawNoisePeer;
    toAlice.send(update(3n, [alice, bobPerson, mallory, carol, carol2, me], [alice.uid]));
    await ackFor(toAlice, `${groupId}:3`);
    for (const p of [carol, carol2, me]) (await dial(p)).send(groupMessage(`hi from ${p.uid.slice(0, 8)}`));
    await bob.ok(["group", "send", groupId, "and me"]);
    const history = await eventually(async () => {
      const out = await bob.ok(["history", groupId]);
      return out.includes(`hi from ${me.uid.slice(0, 8)}`) && out.includes(`hi from ${carol2.uid.slice(0, 8)}`) && out.includes(`hi from ${carol.uid.slice(0, 8)}`) ? out : undefined;
    }, 20_000, "the three messages");
    for (const p of [carol, carol2, me]) expect(history).toContain(`${p.name} (${p.uid.slice(0, 8)}): hi from ${p.uid.slice(0, 8)}`);
    expect(history).toMatch(/ me: and me/);
  }, 60_000);
});
