import { isGroupId, isMessageId } from "@jarvis/core";
import type { GroupMessage, GroupUpdate } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { Card, Contact, Group } from "../model.js";
import { validateCard } from "../contacts/card-codec.js";
import { MAX_TEXT_BYTES } from "../constants.js";
import { groupUpdateAckId } from "../messages/envelopes.js";
import { checkName } from "./group-rules.js";
import { MAX_GROUP_MEMBERS } from "../constants.js";
import { refusalOf } from "./group-authority.js";
import type { GroupServiceDeps } from "./group-deps.js";

/** What a node does with group traffic from a peer (docs/protocol.md §5.1, rules 1, 4, 5 and 9). */

export function receiveGroupMessage(deps: GroupServiceDeps, sender: Contact, body: GroupMessage): void {
const { groups, drops, ownUid, log } = deps;
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
    deps.acks.queue(sender, body.messageId);
    return;
  }
  deps.conversations.storeIncoming(sender, group.id, body.messageId, body.sequence, body.sentAtMs, body.text);
}

/**
 * A peer's view of a group. Applied only when the authority rules allow it (group-authority.ts);
 * refused updates are counted and acked, since they would be refused again.
 */
export function receiveGroupUpdate(deps: GroupServiceDeps, sender: Contact, body: GroupUpdate): void {
const { uow, groups, drops, ownUid, clock, view, log } = deps;
  let cards: Card[];
  try {
    if (!isGroupId(body.groupId) || body.members.length > MAX_GROUP_MEMBERS) throw new Error("bad group update");
    cards = body.members.map((m) => validateCard(m));
    checkName(body.name);
  } catch {
    drops.malformed++;
    return;
  }
  const ack = () => deps.acks.queue(sender, groupUpdateAckId(body.groupId, body.revision));
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
    deps.contacts.learn(cards);
    groups.save(group);
    uow.emit({ type: "group_changed", group: view(group) });
  });
  ack();
}
