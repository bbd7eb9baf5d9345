import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  formatSafetyNumber,
  isUid,
  safetyNumber,
} from "@jarvis/core";
import type { Account } from "../account.js";
import type { Card, Contact } from "../model.js";

const MAX_ALIAS_LENGTH = 64;
const MIN_PREFIX = 4;

/** Contacts: add from a card, find by what a person types, local edits, safety numbers. */
export class ContactService {
  #account: Account;

  constructor(account: Account) {
    this.#account = account;
  }

  add(card: Card, alias = ""): Contact {
    const account = this.#account;
    if (card.uid === account.identity.uid) throw new InvalidArgumentError("that is your own link code", "own-card");
    checkAlias(alias);
    const existing = account.contacts.get(card.uid);
    if (existing) throw new AlreadyExistsError(`${existing.alias || existing.name} (${card.uid.slice(0, 8)}) is already a contact`);
    const contact = account.tx(() => {
      account.contacts.insert({ ...card, alias, addedAt: account.now });
      const stored = account.contacts.get(card.uid) as Contact;
      account.emit({ type: "contact_added", contact: account.contactView(stored) });
      return stored;
    });
    account.contactsChanged();
    return contact;
  }

  /** Adds or refreshes a contact introduced by a group update (name and addresses only). */
  learn(card: Card): Contact {
    const account = this.#account;
    const existing = account.contacts.get(card.uid);
    if (!existing) return this.add(card);
    return existing;
  }

  list(): Contact[] {
    return this.#account.contacts.list();
  }

  /**
   * Finds a contact by uid, alias, name or unique uid prefix (in that order). Ambiguity is an
   * error that names the candidates, never a guess.
   */
  resolve(query: string): Contact {
    const q = query.trim();
    if (q.length === 0) throw new InvalidArgumentError("contact must not be empty");
    const contacts = this.#account.contacts;
    if (isUid(q)) {
      const byUid = contacts.get(q);
      if (byUid) return byUid;
    }
    const all = contacts.list();
    const lower = q.toLowerCase();
    for (const match of [
      all.filter((c) => c.alias !== "" && c.alias.toLowerCase() === lower),
      all.filter((c) => c.name.toLowerCase() === lower),
      q.length >= MIN_PREFIX ? all.filter((c) => c.uid.startsWith(lower)) : [],
    ]) {
      if (match.length === 1) return match[0] as Contact;
      if (match.length > 1) {
        const names = match.map((c) => `${c.alias || c.name} (${c.uid.slice(0, 8)})`).join(", ");
        throw new InvalidArgumentError(`"${q}" is ambiguous: ${names}; use more of the uid`, "ambiguous-contact");
      }
    }
    throw new NotFoundError(`unknown contact "${q}"`, "unknown-contact");
  }

  update(query: string, changes: { alias?: string; verified?: boolean; sendReceipts?: boolean }): Contact {
    const account = this.#account;
    const contact = this.resolve(query);
    if (changes.alias !== undefined) {
      checkAlias(changes.alias);
      contact.alias = changes.alias.trim();
    }
    if (changes.verified !== undefined) contact.verified = changes.verified;
    if (changes.sendReceipts !== undefined) contact.sendReceipts = changes.sendReceipts;
    return account.tx(() => {
      account.contacts.update(contact);
      account.emit({ type: "contact_changed", contact: account.contactView(contact) });
      return contact;
    });
  }

  /** Updates what a peer says about itself in Hello: its name and where it listens. */
  refreshFromHello(contact: Contact, name: string, advertisedAddress: string): void {
    const account = this.#account;
    const cleanName = name.trim().slice(0, 64);
    const addresses = advertisedAddress ? [advertisedAddress, ...contact.addresses.filter((a) => a !== advertisedAddress)].slice(0, 8) : contact.addresses;
    const changed = (cleanName && cleanName !== contact.name) || addresses.join() !== contact.addresses.join();
    if (!changed) return;
    if (cleanName) contact.name = cleanName;
    contact.addresses = addresses;
    account.tx(() => {
      account.contacts.update(contact);
      account.emit({ type: "contact_changed", contact: account.contactView(contact) });
    });
  }

  remove(query: string): Contact {
    const account = this.#account;
    const contact = this.resolve(query);
    account.tx(() => {
      for (const messageId of account.outbox.removeRecipient(contact.uid)) {
        if (messageId && account.outbox.remaining(messageId) === 0) {
          const message = account.messages.get(messageId);
          if (message && (message.state === "queued" || message.state === "sent")) {
            account.messages.setState(messageId, "failed");
            account.emit({ type: "message_state_changed", messageId, conversationId: message.conversationId, state: "failed" });
          }
        }
      }
      account.contacts.delete(contact.uid);
      account.emit({ type: "contact_removed", uid: contact.uid });
    });
    account.contactsChanged();
    return contact;
  }

  safetyNumber(query: string): { digits: string; formatted: string } {
    const contact = this.resolve(query);
    const digits = safetyNumber(this.#account.identity.publicKey, contact.publicKey);
    return { digits, formatted: formatSafetyNumber(digits) };
  }
}

function checkAlias(alias: string): void {
  if (alias.length > MAX_ALIAS_LENGTH) throw new InvalidArgumentError(`alias must be at most ${MAX_ALIAS_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(alias)) throw new InvalidArgumentError("alias must not contain control characters");
}
