import type { Group } from "../model.js";
import { MAX_REVISION_STEP } from "../constants.js";

/**
 * Who may change a group, and how far a revision may move (design §5, docs/protocol.md
 * receiver rules). Pure: given what we hold, what a peer proposes and who proposed it, the
 * reason to refuse it, or undefined when it is allowed.
 */

export type Proposal = Pick<Group, "id" | "name" | "creatorUid" | "revision" | "memberUids" | "adminUids">;

export function refusalOf(existing: Group | undefined, proposed: Proposal, senderUid: string): string | undefined {
  const { memberUids, adminUids, creatorUid, revision } = proposed;
  if (!adminUids.every((uid) => memberUids.includes(uid))) return "admin-not-member";
  if (!existing) return refusalOfFirst(proposed, senderUid);
  if (revision <= existing.revision) return "stale-revision";
  if (revision - existing.revision > MAX_REVISION_STEP) return "revision-jump";
  if (creatorUid !== existing.creatorUid) return "creator-changed";
  if (!existing.memberUids.includes(senderUid)) return "sender-not-member";
  const added = memberUids.filter((uid) => !existing.memberUids.includes(uid));
  const removed = existing.memberUids.filter((uid) => !memberUids.includes(uid));
  const newAdmins = adminUids.filter((uid) => !existing.adminUids.includes(uid));
  const droppedAdmins = existing.adminUids.filter((uid) => !adminUids.includes(uid) && memberUids.includes(uid));
  if (existing.adminUids.includes(senderUid)) {
    // An admin may do anything but remove the creator, who is only ever removed by itself.
    if (removed.includes(existing.creatorUid)) return "creator-removed";
    if (droppedAdmins.includes(existing.creatorUid)) return "creator-demoted";
    return undefined;
  }
  // A plain member may only leave: remove itself, nothing else, same name.
  const onlyLeaves = added.length === 0 && newAdmins.length === 0 && droppedAdmins.length === 0 && removed.length === 1 && removed[0] === senderUid;
  if (!onlyLeaves || proposed.name !== existing.name) return "not-an-admin";
  return undefined;
}

/** The first time we hear of a group, only its creator may tell us, naming itself as admin. */
function refusalOfFirst(proposed: Proposal, senderUid: string): string | undefined {
  if (proposed.creatorUid !== senderUid) return "not-from-creator";
  if (!proposed.memberUids.includes(senderUid) || !proposed.adminUids.includes(senderUid)) return "creator-not-admin";
  if (proposed.revision < 1 || proposed.revision > MAX_REVISION_STEP) return "revision-jump";
  return undefined;
}
