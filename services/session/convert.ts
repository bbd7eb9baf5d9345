import { create } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ContactSchema,
  GroupSchema,
  GroupMemberSchema,
  IdentitySchema,
  PeerHealthSchema,
  PeerStatusSchema,
  UnreadCountSchema,
  MessageState as MessageStateProto,
  Presence as PresenceProto,
  type Contact as ContactProto,
  type Group as GroupProto,
  type Message as MessageProto,
  type PeerStatus as PeerStatusProto,
  type UnreadCount as UnreadCountProto,
} from "@jarvis/proto/jarvis/session/v1/resources";
import type { PeerView } from "./src/app/session-app.js";
import type { PeerHealth } from "./src/peer-network.js";
import { type SubscribeResponse } from "@jarvis/proto/jarvis/session/v1/session_service";
import { cardToProto, encodeLinkCode } from "./src/contacts/card-codec.js";
import type { Card, ContactView, DomainEvent, GroupView, Identity, Message, MessageState, Presence, StoredEvent, UnreadCount } from "./src/model.js";

/** Domain ↔ proto translation for the session API. */

const MESSAGE_STATE: Record<MessageState, MessageStateProto> = {
  queued: MessageStateProto.QUEUED,
  sent: MessageStateProto.SENT,
  delivered: MessageStateProto.DELIVERED,
  read: MessageStateProto.READ,
  failed: MessageStateProto.FAILED,
  received: MessageStateProto.RECEIVED,
};

const PRESENCE: Record<Presence, PresenceProto> = {
  green: PresenceProto.GREEN,
  amber: PresenceProto.AMBER,
  red: PresenceProto.RED,
  grey: PresenceProto.GREY,
};

export const unreadCountToProto = (c: UnreadCount): UnreadCountProto => create(UnreadCountSchema, c);

const optionalTime = (ms: number) => (ms > 0 ? timestampFromMs(ms) : undefined);

function healthToProto(h: PeerHealth) {
  const n = (v: number) => BigInt(Math.max(0, Math.trunc(v)));
  return create(PeerHealthSchema, {
    connectAttempts: n(h.connectAttempts),
    connectSuccesses: n(h.connectSuccesses),
    connectFailures: n(h.connectFailures),
    bytesSent: n(h.bytesSent),
    bytesReceived: n(h.bytesReceived),
    messagesSent: n(h.messagesSent),
    messagesReceived: n(h.messagesReceived),
    connectedSinceTime: optionalTime(h.connectedSince),
    connectedDurationMs: n(h.connectedDurationMs),
    rttMs: h.rttMs,
    lastErrorCode: h.lastErrorCode,
    lastError: h.lastError,
    lastErrorTime: optionalTime(h.lastErrorAt),
  });
}

export function peerToProto(p: PeerView): PeerStatusProto {
  return create(PeerStatusSchema, {
    uid: p.uid,
    name: p.name,
    presence: PRESENCE[p.presence],
    address: p.address,
    stats: p.health ? healthToProto(p.health) : undefined,
  });
}

export function identityToProto(identity: Identity, card: Card) {
  return create(IdentitySchema, {
    uid: identity.uid,
    name: identity.name,
    fingerprint: identity.fingerprint,
    publicKey: identity.publicKey,
    linkCode: encodeLinkCode(card),
    card: cardToProto(card),
  });
}

export function contactToProto(contact: ContactView): ContactProto {
  const publicKey = Buffer.from(contact.publicKeyHex, "hex");
  return create(ContactSchema, {
    uid: contact.uid,
    name: contact.name,
    alias: contact.alias,
    fingerprint: contact.fingerprint,
    publicKey,
    verified: contact.verified,
    addresses: contact.addresses,
    presence: PRESENCE[contact.presence],
    addedTime: timestampFromMs(contact.addedAt),
    sendReceipts: contact.sendReceipts,
    claimedName: contact.claimedName ?? "",
  });
}

/**
 * Every field written out, as create() would fill them: a message is converted once per
 * Subscribe event and per history row, and create()'s walk over the schema cost as much again
 * as building the object.
 */
export function messageToProto(m: Message): MessageProto {
  return {
    $typeName: "jarvis.session.v1.Message",
    id: m.id,
    conversationId: m.conversationId,
    senderUid: m.senderUid,
    outgoing: m.outgoing,
    text: m.text,
    state: MESSAGE_STATE[m.state],
    sentTime: timestamp(m.sentAt),
    receivedTime: timestamp(m.receivedAt),
    position: BigInt(m.position),
    read: m.read,
  };
}

/** timestampFromMs without create() (see messageToProto). */
function timestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function groupToProto(g: GroupView): GroupProto {
  return create(GroupSchema, {
    id: g.id,
    name: g.name,
    memberUids: g.memberUids,
    creatorUid: g.creatorUid,
    presence: PRESENCE[g.presence],
    createdTime: timestampFromMs(g.createdAt),
    // Events stored before admins existed carry neither list.
    adminUids: g.adminUids ?? [],
    members: (g.members ?? []).map((m) => create(GroupMemberSchema, m)),
  });
}

export function eventToProto(stored: StoredEvent): SubscribeResponse {
  return {
    $typeName: "jarvis.session.v1.SubscribeResponse",
    cursor: BigInt(stored.cursor),
    eventTime: timestamp(stored.createdAt),
    event: eventBody(stored.event),
  };
}

function eventBody(e: DomainEvent): SubscribeResponse["event"] {
  switch (e.type) {
    case "message_received":
      return { case: "messageReceived", value: { $typeName: "jarvis.session.v1.MessageReceived", message: messageToProto(e.message) } };
    case "message_created":
      return { case: "messageCreated", value: { $typeName: "jarvis.session.v1.MessageCreated", message: messageToProto(e.message) } };
    case "message_state_changed":
      return {
        case: "messageStateChanged",
        value: { $typeName: "jarvis.session.v1.MessageStateChanged", messageId: e.messageId, conversationId: e.conversationId, state: MESSAGE_STATE[e.state] },
      };
    case "contact_added":
      return { case: "contactAdded", value: { $typeName: "jarvis.session.v1.ContactAdded", contact: contactToProto(e.contact) } };
    case "contact_changed":
      return { case: "contactChanged", value: { $typeName: "jarvis.session.v1.ContactChanged", contact: contactToProto(e.contact) } };
    case "contact_removed":
      return { case: "contactRemoved", value: { $typeName: "jarvis.session.v1.ContactRemoved", uid: e.uid } };
    case "presence_changed":
      return { case: "presenceChanged", value: { $typeName: "jarvis.session.v1.PresenceChanged", uid: e.uid, presence: PRESENCE[e.presence] } };
    case "group_changed":
      return { case: "groupChanged", value: { $typeName: "jarvis.session.v1.GroupChanged", group: groupToProto(e.group) } };
    case "group_removed":
      return { case: "groupRemoved", value: { $typeName: "jarvis.session.v1.GroupRemoved", groupId: e.groupId } };
    case "unread_counts_changed":
      return {
        case: "unreadCountsChanged",
        value: {
          $typeName: "jarvis.session.v1.UnreadCountsChanged",
          counts: e.counts.map((c) => ({ $typeName: "jarvis.session.v1.UnreadCount", conversationId: c.conversationId, unread: c.unread })),
          total: e.total,
        },
      };
    case "identity_unlocked":
      return { case: "identityUnlocked", value: { $typeName: "jarvis.session.v1.IdentityUnlocked", uid: e.uid } };
    case "identity_locked":
      return { case: "identityLocked", value: { $typeName: "jarvis.session.v1.IdentityLocked", uid: e.uid } };
  }
}
