import { InvalidArgumentError, NotFoundError, isGroupId, isUid } from "@jarvis/core";
import type { Contact, Group } from "../model.js";

/** A conversation as a person or a client names it, resolved to the one thing it means. */
export type Conversation = { kind: "contact"; contact: Contact; id: string } | { kind: "group"; group: Group; id: string };

/** The two lookups a reference can go through; ContactService and GroupService provide them. */
export interface ConversationLookups {
  contacts: { resolve(query: string): Contact };
  groups: { resolve(query: string): Group };
}

/** Written before a name to say which kind it is, when a contact and a group share it. */
export const CONTACT_PREFIX = "contact:";
export const GROUP_PREFIX = "group:";

/**
 * The one way every conversation RPC (send, list messages, mark read) reads its reference:
 * `contact:REF` or `group:REF` say the kind; a group id is a group; a contact's full uid is that
 * contact (the common case for programs, answered without listing groups); anything else is looked up
 * as a contact (uid, alias, name, uid prefix) and as a group name. When both match, the answer
 * is an `ambiguous-conversation` error naming both qualified forms, never a guess. When neither
 * matches, the contact lookup's NOT_FOUND `unknown-contact` is kept (the older contract).
 */
export function resolveConversation(reference: string, lookups: ConversationLookups): Conversation {
  const q = reference.trim();
  if (q.length === 0) throw new InvalidArgumentError("conversation is required");
  const lower = q.toLowerCase();
  if (lower.startsWith(CONTACT_PREFIX)) return contactConversation(lookups.contacts.resolve(q.slice(CONTACT_PREFIX.length)));
  if (lower.startsWith(GROUP_PREFIX)) return groupConversation(lookups.groups.resolve(q.slice(GROUP_PREFIX.length)));
  if (isGroupId(q)) return groupConversation(lookups.groups.resolve(q));
  if (isUid(q)) {
    const byUid = unlessNotFound(() => lookups.contacts.resolve(q));
    if (byUid.found && byUid.value.uid === q.toLowerCase()) return contactConversation(byUid.value);
  }
  const contact = unlessNotFound(() => lookups.contacts.resolve(q));
  const group = unlessNotFound(() => lookups.groups.resolve(q));
  if (contact.found && group.found) {
    const candidates = `${CONTACT_PREFIX}${contact.value.alias || contact.value.name} (${contact.value.uid.slice(0, 8)}), ${GROUP_PREFIX}${group.value.name} (${group.value.id.slice(0, 8)})`;
    throw new InvalidArgumentError(`"${q}" names a contact and a group: ${candidates}; write ${CONTACT_PREFIX}${q} or ${GROUP_PREFIX}${q}`, "ambiguous-conversation");
  }
  if (group.found) return groupConversation(group.value);
  if (contact.found) return contactConversation(contact.value);
  throw contact.error;
}

function contactConversation(contact: Contact): Conversation {
  return { kind: "contact", contact, id: contact.uid };
}

function groupConversation(group: Group): Conversation {
  return { kind: "group", group, id: group.id };
}

type Lookup<T> = { found: true; value: T } | { found: false; error: NotFoundError };

/** A lookup whose "no such thing" is an answer here; every other error (ambiguity…) propagates. */
function unlessNotFound<T>(lookup: () => T): Lookup<T> {
  try {
    return { found: true, value: lookup() };
  } catch (error) {
    if (error instanceof NotFoundError) return { found: false, error };
    throw error;
  }
}
