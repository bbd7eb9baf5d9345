import type { Clock, TimerHandle } from "@jarvis/core";
import type { ContactRepo } from "../contacts/contact-repo.js";
import type { GroupRepo } from "../groups/group-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import type { Contact, ContactView, Group, GroupView, Presence } from "../model.js";
import { PRESENCE_SETTLE_MS } from "../constants.js";

export interface PresenceDeps {
  clock: Clock;
  uow: UnitOfWork;
  contacts: ContactRepo;
  groups: GroupRepo;
  ownUid: string;
  /** Whether anyone can reach us: our listener is bound and the network service is up. */
  reachable: () => boolean;
  settleMs?: number;
  /** Storing the presence events failed (e.g. the disk is full); they are tried again. */
  onStoreFailed?: (error: unknown) => void;
}

/**
 * Who is connected, and the presence of contacts and groups derived from it. Queries answer
 * from the live state; the event log gets only net changes, settled over a short window on
 * the clock, so a contact that connects and drops in a loop costs no writes at all.
 */
export class PresenceTracker {
  #deps: PresenceDeps;
  #connected = new Set<string>();
  /** What the event log last said, per contact uid and group id. */
  #published = new Map<string, Presence>();
  #settleTimer: TimerHandle | undefined;
  #closed = false;

  constructor(deps: PresenceDeps) {
    this.#deps = deps;
  }

  get connectedCount(): number {
    return this.#connected.size;
  }

  isConnected(uid: string): boolean {
    return this.#connected.has(uid);
  }

  peerUp(uid: string): void {
    this.#connected.add(uid);
    this.changed();
  }

  peerDown(uid: string): void {
    this.#connected.delete(uid);
    this.changed();
  }

  /** The link to the network went away: every channel with it. */
  allDown(): string[] {
    const uids = [...this.#connected];
    this.#connected.clear();
    this.changed();
    return uids;
  }

  /** GREY when our own listener is down: nobody can reach us, whatever the channels say. */
  presenceOf(uid: string): Presence {
    if (!this.#deps.reachable()) return "grey";
    return this.#connected.has(uid) ? "green" : "red";
  }

  groupPresence(group: Group): Presence {
    if (!this.#deps.reachable()) return "grey";
    const others = group.memberUids.filter((uid) => uid !== this.#deps.ownUid);
    if (others.length === 0) return "green";
    const up = others.filter((uid) => this.#connected.has(uid)).length;
    return up === others.length ? "green" : up > 0 ? "amber" : "red";
  }

  contactView(contact: Contact): ContactView {
    const { publicKey, ...rest } = contact;
    return { ...rest, publicKeyHex: publicKey.toString("hex"), presence: this.presenceOf(contact.uid) };
  }

  groupView(group: Group): GroupView {
    return { ...group, presence: this.groupPresence(group), members: this.#members(group) };
  }

  #members(group: Group): GroupView["members"] {
    return group.memberUids.map((uid) => {
      const contact = uid === this.#deps.ownUid ? undefined : this.#deps.contacts.get(uid);
      const name = contact ? contact.alias || contact.name : "";
      return { uid, name, contact: contact !== undefined && !contact.groupOnly, admin: group.adminUids.includes(uid) };
    });
  }

  /** Something that presence depends on changed: store the net effect once it settles. */
  changed(): void {
    if (this.#settleTimer || this.#closed) return;
    this.#settleTimer = this.#deps.clock.setTimeout(() => {
      this.#settleTimer = undefined;
      this.settle();
    }, this.#deps.settleMs ?? PRESENCE_SETTLE_MS);
  }

  /** Emits presence events for contacts and groups whose presence differs from the last one stored. */
  settle(): void {
    const { uow, contacts, groups } = this.#deps;
    const changes: (() => void)[] = [];
    const before = new Map(this.#published);
    for (const contact of contacts.list()) {
      const presence = this.presenceOf(contact.uid);
      if (this.#published.get(contact.uid) === presence) continue;
      this.#published.set(contact.uid, presence);
      changes.push(() => uow.emit({ type: "presence_changed", uid: contact.uid, presence }));
    }
    for (const group of groups.list()) {
      const presence = this.groupPresence(group);
      if (this.#published.get(group.id) === presence) continue;
      this.#published.set(group.id, presence);
      changes.push(() => uow.emit({ type: "group_changed", group: { ...this.groupView(group), presence } }));
    }
    if (changes.length === 0) return;
    try {
      uow.tx(() => changes.forEach((emit) => emit()));
    } catch (error) {
      // Nothing was stored (a full disk, say): the log still says what it said before, so
      // the net change is tried again after the next settle window rather than lost — and a
      // background timer must never take the service down.
      this.#published = before;
      this.#deps.onStoreFailed?.(error);
      this.changed();
    }
  }

  close(): void {
    this.#closed = true;
    this.#settleTimer?.cancel();
    this.#settleTimer = undefined;
  }
}
