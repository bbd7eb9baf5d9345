import { resolveConversation, type Conversation, type ConversationLookups } from "./conversation-ref.js";

/** What the cache watches: a number that changes whenever the contacts or groups it resolved from do. */
export interface DirectoryVersions {
  contacts: { readonly version: number };
  groups: { readonly version: number };
  /** Inside a transaction the tables may hold uncommitted rows: nothing is cached from them. */
  uow: { readonly inTransaction: boolean };
}

/** Bounds the memory a client sending to many distinct spellings can make us hold. */
const MAX_ENTRIES = 1_024;

/**
 * Remembers what a conversation reference (a name, alias, uid, group id…) resolved to, so a
 * busy client sending "bob" again and again does not list every contact and group (and build
 * a NotFoundError for the group side) per message — the profile showed that at ~8% of a
 * node's CPU. The cache empties whenever a contact or group is written, so it answers exactly
 * what resolveConversation would; failures are never cached (the next try looks again).
 */
export class ConversationCache {
  #lookups: ConversationLookups;
  #versions: DirectoryVersions;
  #entries = new Map<string, Conversation>();
  #contactsVersion = -1;
  #groupsVersion = -1;

  constructor(lookups: ConversationLookups, versions: DirectoryVersions) {
    this.#lookups = lookups;
    this.#versions = versions;
  }

  resolve(reference: string): Conversation {
    const { contacts, groups, uow } = this.#versions;
    if (uow.inTransaction) return resolveConversation(reference, this.#lookups);
    if (contacts.version !== this.#contactsVersion || groups.version !== this.#groupsVersion) {
      this.#entries.clear();
      this.#contactsVersion = contacts.version;
      this.#groupsVersion = groups.version;
    }
    const cached = this.#entries.get(reference);
    if (cached) return cached;
    const resolved = resolveConversation(reference, this.#lookups);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(reference, resolved);
    return resolved;
  }
}
