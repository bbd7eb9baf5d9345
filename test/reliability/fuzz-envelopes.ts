import { newMessageId } from "@jarvis/core";
import type { RawNoisePeer } from "../helpers/network.js";
import { cardOf, envelope, groupUpdate, person, type Person } from "../security/peer-kit.js";
import { int, mutateBytes, randomBytes, type Random } from "./fuzz-inputs.js";

/**
 * What a contact with a valid channel can throw at a node: payloads that decrypt fine but
 * hold bad protobuf, wrong wire types, unknown fields, hostile values in every field, acks and
 * receipts for ids that do not exist, group updates from a member that is not an admin; and
 * below the payloads, chunks the node never writes, replayed, reordered or tampered frames.
 * "survive" cases must be refused one by one with the channel kept; "close" cases must end
 * the channel (with a typed code the node logs).
 */
export interface ChannelCase {
  kind: string;
  expect: "survive" | "close";
  /** For "close": the code the node must close the channel with. */
  code?: string;
  /** The bytes to write, built with the peer's send cipher (so nonces advance as they would). */
  bytes(peer: RawNoisePeer): Buffer;
}

export interface ChannelTarget {
  /** A group of the victim's, of which the attacker is a plain member. */
  groupId: string;
  creator: Person;
  members: Person[];
}

const MiB = 1024 * 1024;
const payload = (data: Uint8Array) => (peer: RawNoisePeer) => peer.encryptPayload(data);

/** A string to hurt a parser or a terminal: huge, control characters, escapes, bidi, lone surrogates. */
function hostileString(random: Random): string {
  const pieces = ["", "\u0000", "\x1b[2J\x1b]0;pwned\x07", "\u202e\u2066", "\ud800", "💥", "名前", "a".repeat(int(random, 1, 70_000)), "%n%s", "\r\n"];
  return Array.from({ length: int(random, 1, 3) }, () => pieces[int(random, 0, pieces.length - 1)]).join("");
}

const hostileU64 = (random: Random) => [0n, 1n, 2n ** 63n - 1n, 2n ** 64n - 1n, BigInt(int(random, 0, 1e9))][int(random, 0, 4)] as bigint;
const hostileI64 = (random: Random) => [0n, -1n, -(2n ** 63n), 2n ** 63n - 1n, BigInt(Date.now())][int(random, 0, 4)] as bigint;
const randomIds = (random: Random, max: number) => Array.from({ length: int(random, 0, max) }, () => (random() < 0.5 ? newMessageId() : hostileString(random).slice(0, 200)));

/** A protobuf field key: field number and wire type. */
const key = (field: number, wire: number) => {
  const out: number[] = [];
  let v = (field << 3) | wire;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
};

function validEnvelope(random: Random, target: ChannelTarget): Uint8Array {
  const id = newMessageId();
  switch (int(random, 0, 6)) {
    case 0:
      return envelope({ case: "chatMessage", value: { $typeName: "jarvis.peer.v1.ChatMessage", messageId: random() < 0.7 ? id : hostileString(random), sequence: hostileU64(random), sentAtMs: hostileI64(random), text: hostileString(random) } });
    case 1:
      return envelope({ case: "groupMessage", value: { $typeName: "jarvis.peer.v1.GroupMessage", groupId: random() < 0.5 ? target.groupId : hostileString(random).slice(0, 100), messageId: id, sequence: hostileU64(random), sentAtMs: hostileI64(random), text: hostileString(random) } });
    case 2:
      return envelope({ case: "ack", value: { $typeName: "jarvis.peer.v1.Ack", messageIds: randomIds(random, 2_000) } });
    case 3:
      return envelope({ case: "receipt", value: { $typeName: "jarvis.peer.v1.Receipt", messageIds: randomIds(random, 2_000) } });
    case 4:
      return envelope({ case: "hello", value: { $typeName: "jarvis.peer.v1.Hello", protocolVersion: int(random, 0, 2 ** 31), capabilities: [hostileString(random).slice(0, 500)], displayName: hostileString(random), advertisedAddress: hostileString(random).slice(0, 300), replyRequested: random() < 0.5 } });
    case 5: {
      // A plain member rewrites the group: drops the creator, adds strangers, makes itself admin.
      const strangers = Array.from({ length: int(random, 0, 5) }, () => person(hostileString(random).slice(0, 50)));
      const attacker = target.members[0] as Person;
      return groupUpdate(target.groupId, target.creator, hostileU64(random), [attacker, ...strangers], [attacker.uid]);
    }
    default: {
      // A group the node has never heard of, with hundreds of member cards.
      const groupId = "g" + randomBytes(random, 16).toString("hex").slice(0, 31);
      const members = Array.from({ length: int(random, 0, 300) }, () => cardOf(person("m")));
      return envelope({ case: "groupUpdate", value: { $typeName: "jarvis.peer.v1.GroupUpdate", groupId, name: hostileString(random), members, creatorUid: (target.members[0] as Person).uid, revision: hostileU64(random), adminUids: [] } });
    }
  }
}

/** A valid envelope with a few bytes flipped, inserted or deleted. */
function mutatedEnvelope(random: Random, target: ChannelTarget): Buffer {
  return mutateBytes(random, validEnvelope(random, target));
}

/** Hand-made protobuf that parses badly or surprisingly: wrong wire types, unknown fields, lengths past the end. */
function oddProtobuf(random: Random): Buffer {
  switch (int(random, 0, 4)) {
    case 0: // chat_message (a message field) sent as a varint
      return Buffer.concat([key(2, 0), Buffer.from([0x96, 0x01])]);
    case 1: // an unknown field, to be skipped
      return Buffer.concat([key(int(random, 10, 5_000), 2), Buffer.from([16]), randomBytes(random, 16)]);
    case 2: // a length-delimited field claiming far more bytes than follow
      return Buffer.concat([key(2, 2), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), randomBytes(random, 8)]);
    case 3: // a varint that never ends
      return Buffer.concat([key(1, 0), Buffer.alloc(int(random, 11, 64), 0xff)]);
    default: // groups (deprecated wire types 3/4) and an invalid wire type 7
      return Buffer.concat([key(2, 3), key(2, 4), key(3, 7)]);
  }
}

/** Case number `index`. */
export function channelCase(random: Random, target: ChannelTarget, index: number): ChannelCase {
  switch (index % 12) {
    case 0:
      return { kind: "random-payload", expect: "survive", bytes: payload(randomBytes(random, int(random, 0, 4_096))) };
    case 1:
    case 2:
      return { kind: "mutated-envelope", expect: "survive", bytes: payload(mutatedEnvelope(random, target)) };
    case 3:
    case 4:
    case 5:
      return { kind: "hostile-values", expect: "survive", bytes: payload(validEnvelope(random, target)) };
    case 6:
      return { kind: "odd-protobuf", expect: "survive", bytes: payload(oddProtobuf(random)) };
    case 7: // an unknown control type is ignored (later versions may add some); 0x04 is features
      return { kind: "unknown-control", expect: "survive", bytes: (peer) => peer.encryptChunk(Buffer.concat([Buffer.from([0x02, int(random, 5, 255)]), randomBytes(random, int(random, 0, 64))])) };
    case 8: // 0x03 is a packed message (docs/protocol.md §4)
      return { kind: "unknown-chunk-flag", expect: "close", code: "bad-chunk", bytes: (peer) => peer.encryptChunk(Buffer.concat([Buffer.from([int(random, 4, 255)]), randomBytes(random, 16)])) };
    case 9: {
      // Transport tampering: a frame replayed, two frames swapped, or one ciphertext byte flipped.
      const op = int(random, 0, 2);
      return {
        kind: ["replayed-frame", "reordered-frames", "tampered-frame"][op] as string,
        expect: "close",
        code: "decrypt-failed",
        bytes: (peer) => {
          const first = peer.encryptPayload(validEnvelope(random, target));
          if (op === 0) return Buffer.concat([first, first]);
          const second = peer.encryptPayload(validEnvelope(random, target));
          if (op === 1) return Buffer.concat([second, first]);
          const flipped = Buffer.from(first);
          const at = int(random, 2, flipped.length - 1);
          flipped[at] = (flipped[at] as number) ^ 0x01;
          return flipped;
        },
      };
    }
    case 10:
      // More-chunks that never end, past the 1 MiB payload cap.
      return { kind: "unterminated-payload", expect: "close", code: "reassembly-too-large", bytes: (peer) => Buffer.concat(Array.from({ length: 17 }, () => peer.encryptChunk(Buffer.concat([Buffer.from([0x01]), Buffer.alloc(65_000, 7)])))) };
    default: {
      // A ping whose nonce is cut short, or one payload just over the 1 MiB cap.
      if (random() < 0.5) return { kind: "bad-ping", expect: "close", code: "bad-control", bytes: (peer) => peer.encryptChunk(Buffer.from([0x02, 0x01, 0x00])) };
      const size = MiB + int(random, 1, 1024);
      return { kind: "oversized-payload", expect: "close", code: "reassembly-too-large", bytes: (peer) => peer.encryptPayload(Buffer.alloc(size, 0x2a)) };
    }
  }
}
