import { uidFromPublicKey, type Clock, type Logger } from "@jarvis/core";
import type { Db } from "./store/database.js";
import { ContactRepo } from "./contacts/contact-repo.js";
import { MessageRepo } from "./messages/message-repo.js";
import { OutboxRepo } from "./messages/outbox-repo.js";
import { GroupRepo } from "./groups/group-repo.js";
import { EventLog } from "./events/event-log.js";
import { SettingsRepo } from "./store/settings-repo.js";
import type { PeerNetwork } from "./peer-network.js";
import type { Card, Contact, ContactView, DomainEvent, Group, GroupView, Identity, Presence } from "./model.js";

export interface AccountDeps {
  clock: Clock;
  logger: Logger;
  network: PeerNetwork;
  /** host:port to listen on for peers. */
  listen: string;
  /** host:port put on our card; empty = the bound listen address. */
  advertise: string;
}

/** Counters of inbound traffic that was refused; exposed for tests and status. */
export interface DropCounters {
  unknownSender: number;
  malformed: number;
  forgedGroupMessages: number;
}

/**
 * Everything that exists only while an identity is unlocked: the open store, its
 * repositories, the event log, and who is connected. Services share it.
 */
export class Account {
  readonly identity: Identity;
  readonly db: Db;
  readonly deps: AccountDeps;
  readonly log: Logger;
  readonly contacts: ContactRepo;
  readonly messages: MessageRepo;
  readonly outbox: OutboxRepo;
  readonly groups: GroupRepo;
  readonly events: EventLog;
  readonly settings: SettingsRepo;
  readonly connected = new Set<string>();
  readonly drops: DropCounters = { unknownSender: 0, malformed: 0, forgedGroupMessages: 0 };
  listenAddress = "";
  #txDepth = 0;
  #writes: { fn: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  #batching = false;
  #unreadDirty = false;
  /** Set by the node: keeps the network's allowed keys and dials in step with the contacts. */
  onContactsChanged: (() => void) | undefined;

  constructor(db: Db, identity: Identity, deps: AccountDeps) {
    this.db = db;
    this.identity = identity;
    this.deps = deps;
    this.log = deps.logger;
    this.contacts = new ContactRepo(db);
    this.messages = new MessageRepo(db);
    this.outbox = new OutboxRepo(db);
    this.groups = new GroupRepo(db);
    this.events = new EventLog(db, () => deps.clock.now());
    this.settings = new SettingsRepo(db);
  }

  get now(): number {
    return this.deps.clock.now();
  }

  /**
   * Runs fn in one transaction; its events reach live subscribers only after the outermost
   * commit. Nested calls become savepoints, so a batch of work can share one commit (the
   * commit, which encrypts and writes the WAL pages, is the expensive part).
   */
  tx<T>(fn: () => T): T {
    if (this.#txDepth > 0) {
      this.#txDepth++;
      try {
        return this.db.transaction(fn)();
      } finally {
        this.#txDepth--;
      }
    }
    let result: T;
    this.#txDepth = 1;
    try {
      result = this.db.transaction(fn)();
    } catch (error) {
      this.events.discardStaged();
      throw error;
    } finally {
      this.#txDepth = 0;
    }
    this.events.publish();
    return result;
  }

  /** Unread counts changed inside a batch: announce once, at the end of it. */
  markUnreadDirty(): void {
    if (this.#txDepth > 0 && this.#batching) this.#unreadDirty = true;
    else this.emitUnreadCounts();
  }

  /**
   * Group commit for client writes: every write requested in the same turn of the event loop
   * runs in one transaction (each in its own savepoint, so one failure does not undo the
   * others), and each caller's promise settles only after that transaction has committed.
   */
  write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#writes.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.#writes.length === 1) setImmediate(() => this.#commitWrites());
    });
  }

  #commitWrites(): void {
    const writes = this.#writes;
    this.#writes = [];
    const outcomes: (() => void)[] = [];
    try {
      this.tx(() => {
        for (const write of writes) {
          try {
            const value = this.tx(write.fn);
            outcomes.push(() => write.resolve(value));
          } catch (error) {
            outcomes.push(() => write.reject(error));
          }
        }
      });
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    for (const settle of outcomes) settle();
  }

  /** Runs a batch (e.g. every frame that arrived in one tick) in a single transaction. */
  batch(fn: () => void): void {
    this.#batching = true;
    try {
      this.tx(() => {
        fn();
        if (this.#unreadDirty) this.emitUnreadCounts();
      });
    } finally {
      this.#batching = false;
      this.#unreadDirty = false;
    }
  }

  contactsChanged(): void {
    this.onContactsChanged?.();
  }

  emit(event: DomainEvent): void {
    this.events.append(event);
  }

  ownCard(): Card {
    const address = this.deps.advertise || advertisable(this.listenAddress);
    return {
      uid: this.identity.uid,
      name: this.identity.name,
      publicKey: this.identity.publicKey,
      addresses: address ? [address] : [],
      fingerprint: this.identity.fingerprint,
    };
  }

  contactByKey(publicKey: Buffer): Contact | undefined {
    return this.contacts.get(uidFromPublicKey(publicKey));
  }

  /** GREY when our own listener is down: nobody can reach us, whatever the channels say. */
  presenceOf(uid: string): Presence {
    if (!this.listenAddress || !this.deps.network.available) return "grey";
    return this.connected.has(uid) ? "green" : "red";
  }

  groupPresence(group: Group): Presence {
    if (!this.listenAddress || !this.deps.network.available) return "grey";
    const others = group.memberUids.filter((uid) => uid !== this.identity.uid);
    if (others.length === 0) return "green";
    const up = others.filter((uid) => this.connected.has(uid)).length;
    return up === others.length ? "green" : up > 0 ? "amber" : "red";
  }

  contactView(contact: Contact): ContactView {
    const { publicKey, ...rest } = contact;
    return { ...rest, publicKeyHex: publicKey.toString("hex"), presence: this.presenceOf(contact.uid) };
  }

  groupView(group: Group): GroupView {
    return { ...group, presence: this.groupPresence(group) };
  }

  emitUnreadCounts(): void {
    const { counts, total } = this.messages.unreadCounts();
    this.emit({ type: "unread_counts_changed", counts, total });
  }

  /** Sends now if a Link is up; the outbox covers whatever does not get through. */
  sendRaw(publicKey: Buffer, payload: Uint8Array): boolean {
    return this.deps.network.send(publicKey, payload);
  }
}

/** A wildcard listen address is not something a peer can dial; advertise loopback instead. */
function advertisable(listen: string): string {
  if (!listen) return "";
  return listen.replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:");
}
