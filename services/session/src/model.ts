/** Domain types of the session service. Plain data: the RPC edge translates them to proto. */

export type MessageState = "queued" | "sent" | "delivered" | "read" | "failed" | "received";
export type Presence = "green" | "amber" | "red" | "grey";

export interface Identity {
  uid: string;
  name: string;
  publicKey: Buffer;
  privateKey: Buffer;
  fingerprint: string;
}

export interface Card {
  uid: string;
  name: string;
  publicKey: Buffer;
  addresses: string[];
  fingerprint: string;
}

export interface Contact {
  uid: string;
  publicKey: Buffer;
  name: string;
  alias: string;
  verified: boolean;
  sendReceipts: boolean;
  addresses: string[];
  addedAt: number;
  fingerprint: string;
  /** What the peer last announced as its name, when that differs from `name` (a claim). */
  claimedName: string;
  /** Learned through a group: reachable for that group's traffic only, not the user's contact. */
  groupOnly: boolean;
}

export interface Message {
  position: number;
  id: string;
  conversationId: string;
  senderUid: string;
  outgoing: boolean;
  text: string;
  state: MessageState;
  sequence: number;
  sentAt: number;
  receivedAt: number;
  read: boolean;
}

export interface Group {
  id: string;
  name: string;
  creatorUid: string;
  revision: number;
  createdAt: number;
  memberUids: string[];
  /** Members that may add or remove others and grant admin; the creator is the first. */
  adminUids: string[];
}

export interface UnreadCount {
  conversationId: string;
  unread: number;
}

/** Contact as events carry it: JSON-safe (key as hex), with the presence at event time. */
export interface ContactView extends Omit<Contact, "publicKey"> {
  publicKeyHex: string;
  presence: Presence;
}

export interface GroupMemberView {
  uid: string;
  /** Alias or name of one of the person's contacts; for a group contact, the name on its card. */
  name: string;
  /** Whether the member is one of the person's own contacts (not a group contact). */
  contact: boolean;
  admin: boolean;
}

export interface GroupView extends Group {
  presence: Presence;
  members: GroupMemberView[];
}

export type DomainEvent =
  | { type: "message_received"; message: Message }
  | { type: "message_created"; message: Message }
  | { type: "message_state_changed"; messageId: string; conversationId: string; state: MessageState }
  | { type: "contact_added"; contact: ContactView }
  | { type: "contact_changed"; contact: ContactView }
  | { type: "contact_removed"; uid: string }
  | { type: "presence_changed"; uid: string; presence: Presence }
  | { type: "group_changed"; group: GroupView }
  | { type: "group_removed"; groupId: string }
  | { type: "unread_counts_changed"; counts: UnreadCount[]; total: number }
  | { type: "identity_unlocked"; uid: string }
  | { type: "identity_locked"; uid: string };

export interface StoredEvent {
  cursor: number;
  createdAt: number;
  event: DomainEvent;
}

/** Counters of inbound traffic that was refused; exposed for tests and status. */
export interface DropCounters {
  unknownSender: number;
  malformed: number;
  forgedGroupMessages: number;
  /** Group updates refused by the authority or revision rules. */
  refusedGroupUpdates: number;
  /** Traffic on a channel before its Hello. */
  beforeHello: number;
  /** Direct messages from a group contact (not one the user added). */
  notAContact: number;
  /** Messages stored with our receive time because their sent_at_ms was out of range. */
  clampedTimestamps: number;
}

export const newDropCounters = (): DropCounters => ({
  unknownSender: 0,
  malformed: 0,
  forgedGroupMessages: 0,
  refusedGroupUpdates: 0,
  beforeHello: 0,
  notAContact: 0,
  clampedTimestamps: 0,
});
