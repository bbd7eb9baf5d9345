import { fingerprintOf } from "@jarvis/core";
import type { Db } from "../store/database.js";
import type { SequenceCounters } from "../store/sequence-counters.js";
import type { Contact } from "../model.js";

interface ContactRow {
  uid: string;
  public_key: Buffer;
  name: string;
  alias: string;
  verified: number;
  send_receipts: number;
  addresses: string;
  added_at: number;
  claimed_name: string;
  group_only: number;
}

const toContact = (row: ContactRow): Contact => ({
  uid: row.uid,
  publicKey: Buffer.from(row.public_key),
  name: row.name,
  alias: row.alias,
  verified: row.verified === 1,
  sendReceipts: row.send_receipts === 1,
  addresses: JSON.parse(row.addresses) as string[],
  addedAt: row.added_at,
  fingerprint: fingerprintOf(row.public_key),
  claimedName: row.claimed_name,
  groupOnly: row.group_only === 1,
});

/**
 * Contacts table access, and the sequence numbers of our direct messages (SequenceCounters).
 *
 * Lookups by uid are cached: every inbound frame looks its sender up, and contacts change
 * rarely. Any write empties the cache, and nothing is cached again until the transaction that
 * wrote has ended (committed or rolled back), so the cache never holds an uncommitted row.
 */
export class ContactRepo {
  #cache = new Map<string, Contact | undefined>();
  #writtenInTransaction = false;
  #version = 0;
  #byUid;
  #all;
  #insert;
  #update;
  #delete;
  #storedSequence;
  #sequences: SequenceCounters;

  constructor(db: Db, sequences: SequenceCounters) {
    this.#sequences = sequences;
    this.#byUid = db.prepare<[string], ContactRow>("SELECT * FROM contacts WHERE uid = ?");
    this.#all = db.prepare<[], ContactRow>("SELECT * FROM contacts ORDER BY added_at, uid");
    this.#insert = db.prepare(
      `INSERT INTO contacts (uid, public_key, name, alias, verified, addresses, added_at, group_only)
       VALUES (@uid, @publicKey, @name, @alias, 0, @addresses, @addedAt, @groupOnly)`,
    );
    this.#update = db.prepare(
      `UPDATE contacts SET name = @name, alias = @alias, verified = @verified, send_receipts = @sendReceipts, addresses = @addresses,
       claimed_name = @claimedName, group_only = @groupOnly WHERE uid = @uid`,
    );
    this.#delete = db.prepare("DELETE FROM contacts WHERE uid = ?");
    this.#storedSequence = db.prepare<[string], { next_sequence: number }>("SELECT next_sequence FROM contacts WHERE uid = ?");
  }

  get(uid: string): Contact | undefined {
    if (this.#cache.has(uid)) return copy(this.#cache.get(uid));
    const row = this.#byUid.get(uid);
    const contact = row && toContact(row);
    if (!this.#writtenInTransaction) this.#cache.set(uid, contact);
    return copy(contact);
  }

  /** Called by the unit of work when an outermost transaction ends. */
  transactionEnded(): void {
    if (!this.#writtenInTransaction) return;
    this.#writtenInTransaction = false;
    this.#cache.clear();
    this.#version++;
  }

  /**
   * Changes whenever the contacts table was written (and again when that transaction ended,
   * committed or not): caches derived from contacts compare it to know they are stale.
   */
  get version(): number {
    return this.#version;
  }

  #invalidate(): void {
    this.#writtenInTransaction = true;
    this.#cache.clear();
    this.#version++;
  }

  /** Every contact, group contacts included (the network must reach them for their groups). */
  list(): Contact[] {
    return this.#all.all().map(toContact);
  }

  insert(contact: Omit<Contact, "verified" | "fingerprint" | "sendReceipts" | "claimedName">): void {
    this.#invalidate();
    this.#insert.run({
      uid: contact.uid,
      publicKey: contact.publicKey,
      name: contact.name,
      alias: contact.alias,
      addresses: JSON.stringify(contact.addresses),
      addedAt: contact.addedAt,
      groupOnly: contact.groupOnly ? 1 : 0,
    });
  }

  update(contact: Contact): void {
    this.#invalidate();
    this.#update.run({
      uid: contact.uid,
      name: contact.name,
      alias: contact.alias,
      verified: contact.verified ? 1 : 0,
      sendReceipts: contact.sendReceipts ? 1 : 0,
      addresses: JSON.stringify(contact.addresses),
      claimedName: contact.claimedName,
      groupOnly: contact.groupOnly ? 1 : 0,
    });
  }

  delete(uid: string): void {
    this.#invalidate();
    this.#delete.run(uid);
    this.#sequences.forgetConversation(uid);
  }

  /** The next per-conversation sequence number of our messages to this contact (writes nothing). */
  takeSequence(uid: string): number {
    return this.#sequences.take(uid, () => this.#storedSequence.get(uid)?.next_sequence ?? 1);
  }
}

/** Callers may change what they get (services copy-and-update); the cached value must not change. */
function copy(contact: Contact | undefined): Contact | undefined {
  return contact && { ...contact, addresses: [...contact.addresses] };
}
