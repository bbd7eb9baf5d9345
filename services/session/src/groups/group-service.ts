import { FailedPreconditionError, InvalidArgumentError, NotFoundError, isGroupId, newGroupId, newMessageId } from "@jarvis/core";
import type { GroupMessage, GroupUpdate } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { Card, Contact, Group, Message } from "../model.js";
import { validateText } from "../messages/conversations.js";
import { groupMessageEnvelope, groupUpdateAckId, groupUpdateEnvelope } from "../messages/envelopes.js";
import { checkName } from "./group-rules.js";
import { MAX_GROUP_MEMBERS } from "../constants.js";
import { receiveGroupMessage, receiveGroupUpdate } from "./group-inbound.js";
import type { GroupServiceDeps } from "./group-deps.js";

/**
 * Groups are pairwise fan-out: a group message is one outbox entry per other member, over
 * that member's own channel. Membership travels as GroupUpdate with every member's card. A
 * receiver accepts a group message only from the authenticated peer that is a member.
 */
export class GroupService {
  #deps: GroupServiceDeps;

  constructor(deps: GroupServiceDeps) {
    this.#deps = deps;
  }

  create(name: string, memberQueries: string[]): Group {
    const { ownUid, clock } = this.#deps;
    const cleanName = checkName(name);
    const members = this.#resolveMembers(memberQueries);
    const group: Group = {
      id: newGroupId(),
      name: cleanName,
      creatorUid: ownUid,
      revision: 1,
      createdAt: clock.now(),
      memberUids: [ownUid, ...members.map((c) => c.uid)].sort(),
      adminUids: [ownUid],
    };
    this.#publish(group, this.#others(group));
    return group;
  }

  list(): Group[] {
    return this.#deps.groups.list();
  }

  /** By id, or by a name that only one group has. */
  resolve(query: string): Group {
    const q = query.trim();
    if (q.length === 0) throw new InvalidArgumentError("group must not be empty");
    const groups = this.#deps.groups;
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
    const group = this.#requireAdmin(this.resolve(query));
    const added = this.#resolveMembers(memberQueries).filter((c) => !group.memberUids.includes(c.uid));
    if (added.length === 0) return group;
    if (group.memberUids.length + added.length > MAX_GROUP_MEMBERS) throw new InvalidArgumentError(`a group has at most ${MAX_GROUP_MEMBERS} members`);
    group.memberUids = [...group.memberUids, ...added.map((c) => c.uid)].sort();
    group.revision++;
    this.#publish(group, this.#others(group));
    return group;
  }

  /** An admin makes another member an admin too. */
  grantAdmin(query: string, memberQuery: string): Group {
    const group = this.#requireAdmin(this.resolve(query));
    const uid = this.#memberUid(group, memberQuery);
    if (group.adminUids.includes(uid)) return group;
    group.adminUids = [...group.adminUids, uid].sort();
    group.revision++;
    this.#publish(group, this.#others(group));
    return group;
  }

  /**
   * An admin removes another member (design §5). The removed member is told too, so its copy
   * turns read-only; the creator can only leave by itself, and oneself leaves with leave().
   */
  removeMember(query: string, memberQuery: string): Group {
    const group = this.#requireAdmin(this.resolve(query));
    const uid = this.#memberUid(group, memberQuery);
    if (uid === this.#deps.ownUid) throw new FailedPreconditionError("to remove yourself, leave the group", "remove-self");
    if (uid === group.creatorUid) throw new FailedPreconditionError("the group's creator cannot be removed", "creator-removed");
    const recipients = this.#others(group);
    group.memberUids = group.memberUids.filter((m) => m !== uid);
    group.adminUids = group.adminUids.filter((m) => m !== uid);
    group.revision++;
    this.#publish(group, recipients);
    return group;
  }

  /** Leaves: the others learn we are gone; the group and its history stay, read-only. */
  leave(query: string): Group {
    const group = this.#requireMembership(this.resolve(query));
    const others = this.#others(group);
    group.memberUids = group.memberUids.filter((uid) => uid !== this.#deps.ownUid);
    group.adminUids = group.adminUids.filter((uid) => uid !== this.#deps.ownUid);
    group.revision++;
    this.#publish(group, others);
    return group;
  }

  /** Deletes our copy (leaving first if still a member) and its history. */
  delete(query: string): void {
    const { uow, groups, messages, conversations, ownUid } = this.#deps;
    let group = this.resolve(query);
    if (group.memberUids.includes(ownUid)) group = this.leave(group.id);
    uow.tx(() => {
      groups.delete(group.id);
      messages.deleteConversation(group.id);
      uow.emit({ type: "group_removed", groupId: group.id });
      conversations.unreadCountsChanged();
    });
  }

  async send(query: string, text: string): Promise<Message> {
    validateText(text);
    this.#requireMembership(this.resolve(query));
    return this.#deps.uow.write(() => this.storeMessage(query, text));
  }

  /** send inside the caller's transaction (an idempotent send records its key in the same one). */
  storeMessage(query: string, text: string): Message {
    validateText(text);
    const { groups, outgoing } = this.#deps;
    const group = this.#requireMembership(this.resolve(query));
    const recipients = this.#others(group);
    const id = newMessageId();
    const reachable = outgoing.withCapacity(recipients);
    if (reachable.length === 0) outgoing.checkCapacity(recipients);
    const state = recipients.length === 0 ? "delivered" : "queued";
    const message = outgoing.storeMessage(id, group.id, groups.takeSequence(group.id), text, state);
    outgoing.enqueue(reachable, { ackId: id, messageId: id, payload: groupMessageEnvelope(group.id, message), needsAck: true });
    return message;
  }

  isMember(groupId: string, uid: string): boolean {
    return this.#deps.groups.get(groupId)?.memberUids.includes(uid) ?? false;
  }

  /** A member's message to the group (group-inbound.ts has the rules). */
  receiveMessage(sender: Contact, body: GroupMessage): void {
    receiveGroupMessage(this.#deps, sender, body);
  }

  /** A peer's view of the group, applied only when the authority rules allow it. */
  receiveUpdate(sender: Contact, body: GroupUpdate): void {
    receiveGroupUpdate(this.#deps, sender, body);
  }

  #others(group: Group): string[] {
    return group.memberUids.filter((uid) => uid !== this.#deps.ownUid);
  }

  #requireAdmin(group: Group): Group {
    this.#requireMembership(group);
    if (!group.adminUids.includes(this.#deps.ownUid)) throw new FailedPreconditionError("only a group admin can do that", "not-an-admin");
    return group;
  }

  #requireMembership(group: Group): Group {
    if (!group.memberUids.includes(this.#deps.ownUid)) throw new FailedPreconditionError("you are no longer a member of this group", "not-a-member");
    return group;
  }

  /**
   * A member by uid, unique uid prefix or shown name, group contacts included (they are
   * members one may want to remove without ever adding them); else a contact reference.
   */
  #memberUid(group: Group, query: string): string {
    const q = query.trim().toLowerCase();
    const byUid = group.memberUids.filter((uid) => uid === q || (q.length >= 4 && uid.startsWith(q)));
    if (byUid.length === 1) return byUid[0] as string;
    const byName = group.memberUids.filter((uid) => {
      const c = this.#deps.contacts.find(uid);
      return c !== undefined && [c.alias, c.name].some((n) => n !== "" && n.toLowerCase() === q);
    });
    if (byName.length === 1) return byName[0] as string;
    const uid = this.#deps.contacts.resolve(query).uid;
    if (!group.memberUids.includes(uid)) throw new FailedPreconditionError("that contact is not a member of this group", "not-a-member");
    return uid;
  }

  #resolveMembers(queries: string[]): Contact[] {
    if (queries.length > MAX_GROUP_MEMBERS - 1) throw new InvalidArgumentError(`a group has at most ${MAX_GROUP_MEMBERS} members`);
    const members = new Map<string, Contact>();
    for (const query of queries) {
      const contact = this.#deps.contacts.resolve(query);
      members.set(contact.uid, contact);
    }
    return [...members.values()];
  }

  /** Stores a new revision of the group and queues it to `recipients`, in one transaction. */
  #publish(group: Group, recipients: string[]): void {
    const { uow, groups, view } = this.#deps;
    uow.tx(() => {
      groups.save(group);
      this.#announce(group, recipients);
      uow.emit({ type: "group_changed", group: view(group) });
    });
  }

  /** Queues the group's full state to the given members (inside the caller's transaction). */
  #announce(group: Group, recipients: string[]): void {
    const { ownUid, ownCard, contacts, outgoing } = this.#deps;
    // Exactly the members: our own card only while we are one of them (not after leaving).
    const cards: Card[] = [];
    for (const uid of group.memberUids) {
      if (uid === ownUid) {
        cards.push(ownCard());
        continue;
      }
      const contact = contacts.find(uid);
      if (contact) cards.push({ uid, name: contact.name, publicKey: contact.publicKey, addresses: contact.addresses, fingerprint: contact.fingerprint });
    }
    const ackId = groupUpdateAckId(group.id, group.revision);
    outgoing.enqueue(recipients, { ackId, messageId: "", payload: groupUpdateEnvelope(group, cards), needsAck: true });
  }
}
