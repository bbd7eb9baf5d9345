import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  isGroupId,
  isMessageId,
  newGroupId,
  newMessageId,
} from "@jarvis/core";
import type { GroupMessage, GroupUpdate } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { Account } from "../account.js";
import type { Card, Contact, Group, Message } from "../model.js";
import type { ContactService } from "../contacts/contact-service.js";
import { validateCard } from "../contacts/card-codec.js";
import { MAX_TEXT_BYTES, validateText, type Messaging } from "../messages/messaging.js";
import { groupMessageEnvelope, groupUpdateAckId, groupUpdateEnvelope } from "../messages/envelopes.js";

const MAX_GROUP_MEMBERS = 64;
const MAX_GROUP_NAME = 64;

/**
 * Groups are pairwise fan-out: a group message is one outbox entry per other member, over
 * that member's own channel. Membership travels as GroupUpdate with every member's card. A
 * receiver accepts a group message only from the authenticated peer that is a member.
 */
export class GroupService {
  #account: Account;
  #contacts: ContactService;
  #messaging: Messaging;

  constructor(account: Account, contacts: ContactService, messaging: Messaging) {
    this.#account = account;
    this.#contacts = contacts;
    this.#messaging = messaging;
  }

  create(name: string, memberQueries: string[]): Group {
    const account = this.#account;
    const cleanName = checkName(name);
    const members = this.#resolveMembers(memberQueries);
    const group: Group = {
      id: newGroupId(),
      name: cleanName,
      creatorUid: account.identity.uid,
      revision: 1,
      createdAt: account.now,
      memberUids: [account.identity.uid, ...members.map((c) => c.uid)].sort(),
    };
    this.#publish(group, this.#others(group));
    return group;
  }

  list(): Group[] {
    return this.#account.groups.list();
  }

  /** By id, or by a name that only one group has. */
  resolve(query: string): Group {
    const q = query.trim();
    if (q.length === 0) throw new InvalidArgumentError("group must not be empty");
    const groups = this.#account.groups;
    if (isGroupId(q)) {
      const byId = groups.get(q);
      if (byId) return byId;
      throw new NotFoundError(`unknown group "${q}"`, "unknown-group");
    }
    const matches = groups.list().filter((g) => g.name.toLowerCase() === q.toLowerCase());
    if (matches.length === 1) return matches[0] as Group;
    if (matches.length > 1) throw new InvalidArgumentError(`"${q}" names ${matches.length} groups; use the group id`, "ambiguous-group");
    throw new NotFoundError(`unknown group "${q}"`, "unknown-group");
  }

  addMembers(query: string, memberQueries: string[]): Group {
    const group = this.#requireMembership(this.resolve(query));
    const added = this.#resolveMembers(memberQueries).filter((c) => !group.memberUids.includes(c.uid));
    if (added.length === 0) return group;
    if (group.memberUids.length + added.length > MAX_GROUP_MEMBERS) throw new InvalidArgumentError(`a group has at most ${MAX_GROUP_MEMBERS} members`);
    group.memberUids = [...group.memberUids, ...added.map((c) => c.uid)].sort();
    group.revision++;
    this.#publish(group, this.#others(group));
    return group;
  }

  /** Leaves: the others learn we are gone; the group and its history stay, read-only. */
  leave(query: string): Group {
    const account = this.#account;
    const group = this.#requireMembership(this.resolve(query));
    const others = this.#others(group);
    group.memberUids = group.memberUids.filter((uid) => uid !== account.identity.uid);
    group.revision++;
    this.#publish(group, others);
    return group;
  }

  /** Deletes our copy (leaving first if still a member) and its history. */
  delete(query: string): void {
    const account = this.#account;
    let group = this.resolve(query);
    if (group.memberUids.includes(account.identity.uid)) group = this.leave(group.id);
    account.tx(() => {
      account.groups.delete(group.id);
      account.messages.deleteConversation(group.id);
      account.emit({ type: "group_removed", groupId: group.id });
      account.emitUnreadCounts();
    });
  }

  async send(query: string, text: string): Promise<Message> {
    validateText(text);
    const account = this.#account;
    const group = this.#requireMembership(this.resolve(query));
    const recipients = this.#others(group);
    const id = newMessageId();
    const message = await account.write(() => {
      this.#messaging.checkCapacity(recipients);
      const state = recipients.length === 0 ? "delivered" : "queued";
      const message = this.#messaging.storeOutgoing(id, group.id, account.groups.takeSequence(group.id), text, state);
      this.#messaging.enqueue(recipients, { ackId: id, messageId: id, payload: groupMessageEnvelope(group.id, message), needsAck: true });
      return message;
    });
    this.#flush(recipients);
    return message;
  }

  isMember(groupId: string, uid: string): boolean {
    return this.#account.groups.get(groupId)?.memberUids.includes(uid) ?? false;
  }

  receiveMessage(sender: Contact, body: GroupMessage): void {
    const account = this.#account;
    const group = account.groups.get(body.groupId);
    const valid = isMessageId(body.messageId) && body.text.length > 0 && Buffer.byteLength(body.text, "utf8") <= MAX_TEXT_BYTES;
    if (!valid) {
      account.drops.malformed++;
      return;
    }
    // The sender is the peer that proved its key on this channel; it must be a member, and so must we.
    if (!group || !group.memberUids.includes(sender.uid) || !group.memberUids.includes(account.identity.uid)) {
      account.drops.forgedGroupMessages++;
      account.log.warn({ peer: sender.uid.slice(0, 8) }, "group message from a non-member dropped");
      return;
    }
    this.#messaging.storeIncoming(sender, group.id, body.messageId, body.sequence, body.sentAtMs, body.text);
  }

  receiveUpdate(sender: Contact, body: GroupUpdate): void {
    const account = this.#account;
    let cards: Card[];
    try {
      if (!isGroupId(body.groupId) || body.members.length > MAX_GROUP_MEMBERS) throw new Error("bad group update");
      cards = body.members.map((m) => validateCard(m));
      checkName(body.name);
    } catch {
      account.drops.malformed++;
      return;
    }
    const revision = Number(body.revision);
    const existing = account.groups.get(body.groupId);
    const ack = () => this.#messaging.queueAck(sender, groupUpdateAckId(body.groupId, body.revision));
    if (existing && existing.revision >= revision) return void ack();
    // Only a member may change a group: a current member, or the creator naming itself when we first hear of it.
    const senderAllowed = existing ? existing.memberUids.includes(sender.uid) : cards.some((c) => c.uid === sender.uid) || false;
    if (!senderAllowed) {
      account.drops.forgedGroupMessages++;
      return;
    }
    const memberUids = [...new Set(cards.map((c) => c.uid))].sort();
    if (!existing && !memberUids.includes(account.identity.uid)) return void ack();
    for (const card of cards) if (card.uid !== account.identity.uid) this.#contacts.learn(card);
    const group: Group = {
      id: body.groupId,
      name: body.name.trim(),
      creatorUid: existing?.creatorUid ?? body.creatorUid,
      revision,
      createdAt: existing?.createdAt ?? account.now,
      memberUids,
    };
    account.tx(() => {
      account.groups.save(group);
      account.emit({ type: "group_changed", group: account.groupView(group) });
    });
    ack();
  }

  #others(group: Group): string[] {
    return group.memberUids.filter((uid) => uid !== this.#account.identity.uid);
  }

  #requireMembership(group: Group): Group {
    if (!group.memberUids.includes(this.#account.identity.uid)) throw new FailedPreconditionError("you are no longer a member of this group", "not-a-member");
    return group;
  }

  #resolveMembers(queries: string[]): Contact[] {
    if (queries.length > MAX_GROUP_MEMBERS - 1) throw new InvalidArgumentError(`a group has at most ${MAX_GROUP_MEMBERS} members`);
    const members = new Map<string, Contact>();
    for (const query of queries) {
      const contact = this.#contacts.resolve(query);
      members.set(contact.uid, contact);
    }
    return [...members.values()];
  }

  /** Stores a new revision of the group, announces it to `recipients` and sends it. */
  #publish(group: Group, recipients: string[]): void {
    const account = this.#account;
    account.tx(() => {
      account.groups.save(group);
      this.#announce(group, recipients);
      account.emit({ type: "group_changed", group: account.groupView(group) });
    });
    this.#flush(recipients);
  }

  /** Queues the group's full state to the given members (inside the caller's transaction). */
  #announce(group: Group, recipients: string[]): void {
    const account = this.#account;
    // Exactly the members: our own card only while we are one of them (not after leaving).
    const cards: Card[] = [];
    for (const uid of group.memberUids) {
      if (uid === account.identity.uid) {
        cards.push(account.ownCard());
        continue;
      }
      const contact = account.contacts.get(uid);
      if (contact) cards.push({ uid, name: contact.name, publicKey: contact.publicKey, addresses: contact.addresses, fingerprint: contact.fingerprint });
    }
    const ackId = groupUpdateAckId(group.id, group.revision);
    this.#messaging.enqueue(recipients, { ackId, messageId: "", payload: groupUpdateEnvelope(group, cards), needsAck: true });
  }

  #flush(uids: string[]): void {
    for (const uid of uids) this.#messaging.scheduleFlush(uid);
  }
}

function checkName(name: string): string {
  const clean = name.trim();
  if (clean.length === 0 || clean.length > MAX_GROUP_NAME) throw new InvalidArgumentError(`group name must be 1 to ${MAX_GROUP_NAME} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(clean)) throw new InvalidArgumentError("group name must not contain control characters");
  return clean;
}
