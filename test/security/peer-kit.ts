import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { ContactCardSchema } from "@jarvis/proto/jarvis/peer/v1/card";
import { fingerprintOf, newMessageId, uidFromPublicKey } from "@jarvis/core";
import { decodeLinkCode, encodeLinkCode } from "@jarvis/session/testing";
import { generateKeyPair, RawNoisePeer, type KeyPair } from "../helpers/network.js";
import { eventually, type TestNode } from "../helpers/cli.js";

/**
 * What the attack tests of issue 15 (and the reliability suite that replays them) need to play
 * a hostile node against a real one: people with their own keys, their cards and link codes,
 * peer envelopes built by hand, and waits on what the victim answered.
 */
export interface Person {
  keys: KeyPair;
  uid: string;
  name: string;
}

export const person = (name: string): Person => {
  const keys = generateKeyPair();
  return { keys, uid: uidFromPublicKey(Buffer.from(keys.publicKey)), name };
};

export const cardOf = (p: Person) =>
  create(ContactCardSchema, { version: 1, uid: p.uid, name: p.name, publicKey: p.keys.publicKey, addresses: [], fingerprint: fingerprintOf(Buffer.from(p.keys.publicKey)) });

export const linkCodeOf = (p: Person) =>
  encodeLinkCode({ uid: p.uid, name: p.name, publicKey: Buffer.from(p.keys.publicKey), addresses: [], fingerprint: fingerprintOf(Buffer.from(p.keys.publicKey)) });

export const envelope = (body: Envelope["body"]) => toBinary(EnvelopeSchema, create(EnvelopeSchema, { body }));

export const hello = (name: string) =>
  envelope({ case: "hello", value: { $typeName: "jarvis.peer.v1.Hello", protocolVersion: 1, capabilities: [], displayName: name, advertisedAddress: "", replyRequested: false } });

export const chat = (id: string, text: string, sentAtMs = BigInt(Date.now()), sequence = 1n) =>
  envelope({ case: "chatMessage", value: { $typeName: "jarvis.peer.v1.ChatMessage", messageId: id, sequence, sentAtMs, text } });

export const groupMessage = (groupId: string, text: string, id = newMessageId()) =>
  envelope({ case: "groupMessage", value: { $typeName: "jarvis.peer.v1.GroupMessage", groupId, messageId: id, sequence: 1n, sentAtMs: BigInt(Date.now()), text } });

export const groupUpdate = (groupId: string, creator: Person, revision: bigint, members: Person[], admins: string[]) =>
  envelope({
    case: "groupUpdate",
    value: { $typeName: "jarvis.peer.v1.GroupUpdate", groupId, name: "team", members: members.map(cardOf), creatorUid: creator.uid, revision, adminUids: admins },
  });

/** Every envelope body the victim sent this peer, in order. */
export const bodies = (peer: RawNoisePeer) => peer.payloads.map((p) => fromBinary(EnvelopeSchema, p).body);

export const acked = (peer: RawNoisePeer, id: string) => bodies(peer).some((b) => b.case === "ack" && b.value.messageIds.includes(id));

/** Waits until the victim has acked `ackId` to this peer: proof that it processed (stored or refused) it. */
export async function ackFor(peer: RawNoisePeer, ackId: string, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => acked(peer, ackId) || undefined, timeoutMs, `an ack for ${ackId}`);
}

/** A real node under attack and the raw peers dialled to it, destroyed together. */
export class Victim {
  readonly node: TestNode;
  readonly peers: RawNoisePeer[] = [];
  address = "";

  constructor(node: TestNode) {
    this.node = node;
  }

  /** Starts the node (test profile, `jarvis up` with `extra` flags) and adds these people as its contacts. */
  async start(contacts: Person[], extra: string[] = []): Promise<void> {
    await this.node.init(extra);
    for (const p of contacts) await this.node.ok(["contact", "add", linkCodeOf(p)]);
    this.address = decodeLinkCode(await this.node.linkCode()).addresses[0] ?? "";
  }

  /** Dials the node as `p` (a full Noise handshake with p's key), then says Hello unless told not to. */
  async dial(p: Person, greet = true): Promise<RawNoisePeer> {
    const peer = await RawNoisePeer.dial(this.address, p.keys);
    this.peers.push(peer);
    if (greet) peer.send(hello(p.name));
    return peer;
  }

  /** The victim itself as a Person-shaped card source (its public key; no private key). */
  async asPerson(): Promise<Person & { uid: string }> {
    const decoded = decodeLinkCode(await this.node.linkCode());
    return { uid: decoded.uid, name: decoded.name, keys: { publicKey: decoded.publicKey } as unknown as KeyPair };
  }

  async destroy(): Promise<void> {
    for (const peer of this.peers) peer.destroy();
    await this.node.destroy();
  }
}
