import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  AckSchema,
  ChatMessageSchema,
  EnvelopeSchema,
  GroupMessageSchema,
  GroupUpdateSchema,
  HelloSchema,
  ReceiptSchema,
  type Envelope,
} from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { Card } from "../model.js";
import { cardToProto } from "../contacts/card-codec.js";

/** Builders for the peer envelopes the session sends (docs/protocol.md). */

export const PROTOCOL_VERSION = 1;
export const CAPABILITIES = ["receipts", "groups"];

const encode = (body: Envelope["body"]): Buffer => Buffer.from(toBinary(EnvelopeSchema, create(EnvelopeSchema, { body })));

export function decodeEnvelope(payload: Uint8Array): Envelope {
  return fromBinary(EnvelopeSchema, payload);
}

interface Outgoing {
  id: string;
  sequence: number;
  sentAt: number;
  text: string;
}

export const helloEnvelope = (displayName: string, advertisedAddress: string, replyRequested = false) =>
  encode({
    case: "hello",
    value: create(HelloSchema, { protocolVersion: PROTOCOL_VERSION, capabilities: CAPABILITIES, displayName, advertisedAddress, replyRequested }),
  });

export const chatEnvelope = (m: Outgoing) =>
  encode({
    case: "chatMessage",
    value: create(ChatMessageSchema, { messageId: m.id, sequence: BigInt(m.sequence), sentAtMs: BigInt(m.sentAt), text: m.text }),
  });

export const groupMessageEnvelope = (groupId: string, m: Outgoing) =>
  encode({
    case: "groupMessage",
    value: create(GroupMessageSchema, { groupId, messageId: m.id, sequence: BigInt(m.sequence), sentAtMs: BigInt(m.sentAt), text: m.text }),
  });

export const groupUpdateEnvelope = (g: { id: string; name: string; creatorUid: string; revision: number; adminUids: string[] }, members: Card[]) =>
  encode({
    case: "groupUpdate",
    value: create(GroupUpdateSchema, {
      groupId: g.id,
      name: g.name,
      creatorUid: g.creatorUid,
      revision: BigInt(g.revision),
      members: members.map(cardToProto),
      adminUids: g.adminUids,
    }),
  });

export const ackEnvelope = (ids: string[]) => encode({ case: "ack", value: create(AckSchema, { messageIds: ids }) });
export const receiptEnvelope = (ids: string[], receiptId: string) => encode({ case: "receipt", value: create(ReceiptSchema, { messageIds: ids, receiptId }) });

/** The ack id of a group update: a revision is acknowledged, not a message. */
export const groupUpdateAckId = (groupId: string, revision: number | bigint) => `${groupId}:${revision}`;
