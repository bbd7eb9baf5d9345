import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  formatSafetyNumber,
  isUid,
  safetyNumber,
  uidFromPublicKey,
} from "@jarvis/core";
import type { Clock } from "@jarvis/core";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { ContactRepo } from "./contact-repo.js";
import type { Outgoing } from "../messages/outgoing.js";
import type { Card, Contact, ContactView } from "../model.js";
import { MAX_ALIAS_LENGTH, MIN_PREFIX } from "../constants.js";

/** Public key → uid entries byKey keeps (far more than any node's channels). */
const MAX_REMEMBERED_KEYS = 4096;

export interface ContactServiceDeps {
  clock: Clock;
  uow: UnitOfWork;
  contacts: ContactRepo;
  outgoing: Outgoing;
  ownUid: string;
  ownPublicKey: Buffer;
  view: (contact: Contact) => ContactView;
  /** Keeps the network's allowed keys in step with the contacts, and dials the new ones. */
  contactsChanged: (added: Contact[]) => void;
}

/** Contacts: add from a card, find by what a person types, local edits, safety numbers. */
export class ContactService {
  #deps: ContactServiceDeps;
  #uidByKey = new Map<string, string>();

  constructor(deps: ContactServiceDeps) {
    this.#deps = deps;
  }

  add(card: Card, alias = ""): Contact {
    const { uow, contacts, clock, ownUid, view } = this.#deps;
    if (card.uid === ownUid) throw new InvalidArgumentError("that is your own link code", "own-card");
    checkAlias(alias);
    const existing = contacts.get(card.uid);
    if (existing && !existing.groupOnly) throw new AlreadyExistsError(`${existing.alias || existing.name} (${card.uid.slice(0, 8)}) is already a contact`);
    const contact = uow.tx(() => {
      // A group contact the person now adds becomes theirs, under the name on the card they chose.
      if (existing) contacts.update({ ...existing, name: card.name, alias, addresses: card.addresses, claimedName: "", groupOnly: false });
      else contacts.insert({ ...card, alias, addedAt: clock.now(), groupOnly: false });
      const stored = contacts.get(card.uid) as Contact;
      uow.emit({ type: "contact_added", contact: view(stored) });
      return stored;
    });
    this.#deps.contactsChanged(existing ? [] : [contact]);
    return contact;
  }

  /**
   * Members introduced by a group update become group contacts: reachable for group traffic,
   * invisible in the person's contact list. A uid we already know is left exactly as it is —
   * a group never renames, re-addresses or stands in for anyone (design §5). Returns the new ones.
   */
  learn(cards: Card[]): Contact[] {
    const { contacts, clock, ownUid } = this.#deps;
    const added: Contact[] = [];
    for (const card of cards) {
      if (card.uid === ownUid || contacts.get(card.uid)) continue;
      contacts.insert({ ...card, alias: "", addedAt: clock.now(), groupOnly: true });
      added.push(contacts.get(card.uid) as Contact);
    }
    if (added.length > 0) this.#deps.uow.afterCommit(() => this.#deps.contactsChanged(added));
    return added;
  }

  /** By uid, group contacts included, without the lookup rules of resolve(). */
  find(uid: string): Contact | undefined {
    return this.#deps.contacts.get(uid);
  }

  /**
   * The contact or group contact behind an authenticated key. Every inbound frame asks, so the
   * key's uid (a SHA-256) is remembered: it never changes, whatever happens to the contact.
   */
  byKey(publicKey: Buffer): Contact | undefined {
    const key = publicKey.toString("hex");
    let uid = this.#uidByKey.get(key);
    if (uid === undefined) {
      uid = uidFromPublicKey(publicKey);
      // Only keys the network let in get here, a handful; the bound is against surprises.
      if (this.#uidByKey.size >= MAX_REMEMBERED_KEYS) this.#uidByKey.clear();
      this.#uidByKey.set(key, uid);
    }
    return this.#deps.contacts.get(uid);
  }

  /** The person's own contacts (never group contacts). */
  list(): Contact[] {
    return this.#deps.contacts.list().filter((c) => !c.groupOnly);
  }

  /**
   * Finds a contact by uid, alias, name or unique uid prefix (in that order). Ambiguity is an
   * error that names the candidates, never a guess.
   */
  resolve(query: string): Contact {
    const q = query.trim();
    if (q.length === 0) throw new InvalidArgumentError("contact must not be empty");
    const contacts = this.#deps.contacts;
    if (isUid(q)) {
      const byUid = contacts.get(q);
      if (byUid && !byUid.groupOnly) return byUid;
    }
    const all = this.list();
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
    const { uow, contacts, view } = this.#deps;
    const contact = this.resolve(query);
    if (changes.alias !== undefined) {
      checkAlias(changes.alias);
      contact.alias = changes.alias.trim();
    }
    if (changes.verified !== undefined) contact.verified = changes.verified;
    if (changes.sendReceipts !== undefined) contact.sendReceipts = changes.sendReceipts;
    return uow.tx(() => {
      contacts.update(contact);
      uow.emit({ type: "contact_changed", contact: view(contact) });
      return contact;
    });
  }

  /**
   * Records what a peer says about itself in Hello: where it listens, and the name it claims.
   * The claim never replaces the local name (petnames, design §5); it is kept beside it.
   */
  refreshFromHello(contact: Contact, name: string, advertisedAddress: string): void {
    const { uow, contacts, view } = this.#deps;
    // eslint-disable-next-line no-control-regex
    const cleanName = name.replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 64);
    const claimedName = cleanName === contact.name ? "" : cleanName;
    const addresses = advertisedAddress ? [advertisedAddress, ...contact.addresses.filter((a) => a !== advertisedAddress)].slice(0, 8) : contact.addresses;
    const changed = claimedName !== contact.claimedName || addresses.join() !== contact.addresses.join();
    if (!changed) return;
    contact.claimedName = claimedName;
    contact.addresses = addresses;
    uow.tx(() => {
      contacts.update(contact);
      uow.emit({ type: "contact_changed", contact: view(contact) });
    });
  }

  remove(query: string): Contact {
    const { uow, contacts, outgoing } = this.#deps;
    const contact = this.resolve(query);
    uow.tx(() => {
      outgoing.dropRecipient(contact.uid);
      contacts.delete(contact.uid);
      uow.emit({ type: "contact_removed", uid: contact.uid });
    });
    this.#deps.contactsChanged([]);
    return contact;
  }

  safetyNumber(query: string): { digits: string; formatted: string } {
    const contact = this.resolve(query);
    const digits = safetyNumber(this.#deps.ownPublicKey, contact.publicKey);
    return { digits, formatted: formatSafetyNumber(digits) };
  }
}

function checkAlias(alias: string): void {
  if (alias.length > MAX_ALIAS_LENGTH) throw new InvalidArgumentError(`alias must be at most ${MAX_ALIAS_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(alias)) throw new InvalidArgumentError("alias must not contain control characters");
}
