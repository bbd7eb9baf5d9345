import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  isGroupId,
  isMessageId,
  newGroupId,
  newMessageId,
  type Clock,
  type Logger,
} from "@jarvis/core";
import type { GroupMessage, GroupUpdate } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { GroupRepo } from "./group-repo.js";
import type { MessageRepo } from "../messages/message-repo.js";
import type { Card, Contact, DropCounters, Group, GroupView, Message } from "../model.js";
import type { ContactService } from "../contacts/contact-service.js";
import { validateCard } from "../contacts/card-codec.js";
import type { Outgoing } from "../messages/outgoing.js";
import type { Acks } from "../messages/acks.js";
import { MAX_TEXT_BYTES, validateText, type Conversations } from "../messages/conversations.js";
import { groupMessageEnvelope, groupUpdateAckId, groupUpdateEnvelope } from "../messages/envelopes.js";
import { MAX_GROUP_MEMBERS, checkName } from "./group-rules.js";
import { refusalOf } from "./group-authority.js";

export interface GroupServiceDeps {
  clock: Clock;
  log: Logger;
  uow: UnitOfWork;
  groups: GroupRepo;
  messages: MessageRepo;
  contacts: ContactService;
  outgoing: Outgoing;
  conversations: Conversations;
  acks: Acks;
  drops: DropCounters;
  ownUid: string;
  ownCard: () => Card;
  view: (group: Group) => GroupView;
}


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
    const member = this.#deps.contacts.resolve(memberQuery);
    if (!group.memberUids.includes(member.uid)) throw new FailedPreconditionError("only a member can be made an admin", "not-a-member");
    if (group.adminUids.includes(member.uid)) return group;
    group.adminUids = [...group.adminUids, member.uid].sort();
    group.revision++;
    this.#publish(group, this.#others(group));
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
    const { uow, groups, outgoing } = this.#deps;
    const group = this.#requireMembership(this.resolve(query));
    const recipients = this.#others(group);
    const id = newMessageId();
    return uow.write(() => {
      const reachable = outgoing.withCapacity(recipients);
      if (reachable.length === 0) outgoing.checkCapacity(recipients);
      const state = recipients.length === 0 ? "delivered" : "queued";
      const message = outgoing.storeMessage(id, group.id, groups.takeSequence(group.id), text, state);
      outgoing.enqueue(reachable, { ackId: id, messageId: id, payload: groupMessageEnvelope(group.id, message), needsAck: true });
      return message;
    });
  }

  isMember(groupId: string, uid: string): boolean {
    return this.#deps.groups.get(groupId)?.memberUids.includes(uid) ?? false;
  }

  receiveMessage(sender: Contact, body: GroupMessage): void {
    const { groups, drops, ownUid, log } = this.#deps;
    const group = groups.get(body.groupId);
    const valid = isMessageId(body.messageId) && body.text.length > 0 && Buffer.byteLength(body.text, "utf8") <= MAX_TEXT_BYTES;
    if (!valid) {
      drops.malformed++;
      return;
    }
    // The sender is the peer that proved its key on this channel; it must be a member, and so must we.
    if (!group || !group.memberUids.includes(sender.uid) || !group.memberUids.includes(ownUid)) {
      drops.forgedGroupMessages++;
      log.debug({ peer: sender.uid.slice(0, 8) }, "group message from a non-member dropped");
      // Acked all the same: it would be refused again, so the sender need not retry it.
      this.#deps.acks.queue(sender, body.messageId);
      return;
    }
    this.#deps.conversations.storeIncoming(sender, group.id, body.messageId, body.sequence, body.sentAtMs, body.text);
  }

  /**
   * A peer's view of a group. Applied only when the authority rules allow it (group-authority.ts);
   * refused updates are counted and acked, since they would be refused again.
   */
  receiveUpdate(sender: Contact, body: GroupUpdate): void {
    const { uow, groups, drops, ownUid, clock, view, log } = this.#deps;
    let cards: Card[];
    try {
      if (!isGroupId(body.groupId) || body.members.length > MAX_GROUP_MEMBERS) throw new Error("bad group update");
      cards = body.members.map((m) => validateCard(m));
      checkName(body.name);
    } catch {
      drops.malformed++;
      return;
    }
    const ack = () => this.#deps.acks.queue(sender, groupUpdateAckId(body.groupId, body.revision));
    const existing = groups.get(body.groupId);
    const memberUids = [...new Set(cards.map((c) => c.uid))].sort();
    // Older peers send no admin list: their creator is the only admin.
    const adminUids = [...new Set(body.adminUids.length > 0 ? body.adminUids : [body.creatorUid])].sort();
    const revision = body.revision > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(body.revision);
    const proposed = { id: body.groupId, name: body.name.trim(), creatorUid: body.creatorUid, revision, memberUids, adminUids };
    const refusal = refusalOf(existing, proposed, sender.uid);
    if (refusal) {
      // A stale revision is an ordinary resend; everything else is someone overstepping.
      if (refusal !== "stale-revision") {
        drops.refusedGroupUpdates++;
        log.debug({ peer: sender.uid.slice(0, 8), reason: refusal }, "group update refused");
      }
      return void ack();
    }
    if (!existing && !memberUids.includes(ownUid)) return void ack();
    const group: Group = { ...proposed, createdAt: existing?.createdAt ?? clock.now() };
    uow.tx(() => {
      this.#deps.contacts.learn(cards);
      groups.save(group);
      uow.emit({ type: "group_changed", group: view(group) });
    });
    ack();
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
