import { LockedError, systemClock, uidFromPublicKey, type Clock, type Logger } from "@jarvis/core";
import type { PeerNetwork } from "../peer-network.js";
import type { Store } from "../store/store.js";
import { newDropCounters, type Card, type Contact, type DropCounters, type Identity } from "../model.js";
import { PresenceTracker } from "../presence/presence-tracker.js";
import { ContactService } from "../contacts/contact-service.js";
import { GroupService } from "../groups/group-service.js";
import { ConversationCache } from "./conversation-cache.js";
import { Outgoing } from "../messages/outgoing.js";
import { OutboxDelivery } from "../messages/outbox-delivery.js";
import { Acks } from "../messages/acks.js";
import { Conversations } from "../messages/conversations.js";
import { helloEnvelope } from "../messages/envelopes.js";
import { NetworkSync } from "../network/network-sync.js";
import type { InboundFrame } from "../network/inbound-batcher.js";
import { InboundFrames } from "./inbound-frames.js";
import { advertisedAddresses } from "../identity/advertised-addresses.js";
import { OUTBOX_LIMITS } from "../constants.js";
import { dispatchPeerFrame, type PeerFrameHandlers } from "../network/frame-dispatch.js";

/** Settings key of the advertised address chosen by the person (SetAdvertisedAddress). */
const ADVERTISE_SETTING = "advertise";

export interface UnlockedSessionOptions {
  clock: Clock;
  logger: Logger;
  network: PeerNetwork;
  /** host:port to listen on for peers. */
  listen: string;
  /** host:port put on our card; empty = the bound listen address. */
  advertise: string;
  /** Test hook: how long presence settles before it is stored (default PRESENCE_SETTLE_MS). */
  presenceSettleMs?: number;
}

/**
 * Everything that exists only while an identity is unlocked, wired together: the store, the
 * services, presence, delivery, and the network's events routed to them.
 */
export class UnlockedSession {
  readonly identity: Identity;
  readonly store: Store;
  readonly drops: DropCounters = newDropCounters();
  readonly presence: PresenceTracker;
  readonly outgoing: Outgoing;
  readonly delivery: OutboxDelivery;
  readonly acks: Acks;
  readonly conversations: Conversations;
  readonly contacts: ContactService;
  readonly groups: GroupService;
  /** Conversation references as clients write them, resolved once per change of contacts or groups. */
  readonly conversationRefs: ConversationCache;
  readonly sync: NetworkSync;
  #options: UnlockedSessionOptions;
  #log: Logger;
  #inbound: InboundFrames;
  #listenAddress = "";
  /** Peers that sent Hello on their current channel; traffic from others is refused. */
  #greeted = new Set<string>();
  /** The network's id of each connected peer's current channel (PeerConnected.channel_id). */
  #channelIds = new Map<string, bigint>();
  /** Peers we asked for a Hello (reply_requested) and have not heard one from since. */
  #askedForHello = new Set<string>();

  constructor(store: Store, identity: Identity, options: UnlockedSessionOptions) {
    this.store = store;
    this.identity = identity;
    this.#options = options;
    const { clock, network } = options;
    const log = (this.#log = options.logger);
    const { uow, contacts: contactRepo, groups: groupRepo, messages, outbox, settings } = store;
    const ownUid = identity.uid;
    store.onCheckpointFailure((err) => log.error({ err }, "the WAL checkpoint worker failed; the store checkpoints on its own connection again"));
    this.presence = new PresenceTracker({
      clock,
      uow,
      contacts: contactRepo,
      groups: groupRepo,
      ownUid,
      reachable: () => this.#listenAddress !== "" && network.available,
      settleMs: options.presenceSettleMs,
      onStoreFailed: (err) => log.warn({ err }, "storing presence changes failed; trying again"),
    });
    const handOff = (item: Parameters<OutboxDelivery["offer"]>[0]) => this.delivery.offer(item);
    const connected = (uid: string) => this.delivery.channel(uid)?.ackedWithin(OUTBOX_LIMITS.busyAckWindowMs) ?? false;
    this.outgoing = new Outgoing({ clock, uow, messages, outbox, ownUid, handOff, connected });
    this.delivery = new OutboxDelivery({ clock, log, network, uow, outbox, outgoing: this.outgoing });
    this.acks = new Acks({ clock: systemClock, network, uow, outbox, outgoing: this.outgoing, delivery: this.delivery });
    this.conversations = new Conversations({ clock, uow, messages, contacts: contactRepo, outgoing: this.outgoing, acks: this.acks, drops: this.drops });
    this.contacts = new ContactService({
      clock,
      uow,
      contacts: contactRepo,
      outgoing: this.outgoing,
      ownUid,
      ownPublicKey: identity.publicKey,
      view: (c) => this.presence.contactView(c),
      contactsChanged: (added) => void this.sync.contactsChanged(added).then(() => this.presence.changed()),
    });
    this.groups = new GroupService({
      clock,
      log,
      uow,
      groups: groupRepo,
      messages,
      contacts: this.contacts,
      outgoing: this.outgoing,
      conversations: this.conversations,
      acks: this.acks,
      drops: this.drops,
      ownUid,
      ownCard: () => this.ownCard(),
      view: (g) => this.presence.groupView(g),
    });
    this.conversationRefs = new ConversationCache({ contacts: this.contacts, groups: this.groups }, { contacts: contactRepo, groups: groupRepo, uow });
    this.sync = new NetworkSync({
      clock,
      log,
      network,
      uow,
      contacts: contactRepo,
      settings,
      privateKey: identity.privateKey,
      listen: options.listen,
      listening: (address) => {
        this.#listenAddress = address;
        this.presence.changed();
      },
    });
    // The ack fold runs on real time, not the session's clock: it only bounds how late
    // "delivered" may show, and a test that holds its clock still must still see acks land.
    this.#inbound = new InboundFrames((frames) => this.#handleFrames(frames), { uow, clock: systemClock, log });
  }

  get listenAddress(): string {
    return this.#listenAddress;
  }

  start(): void {
    const { network } = this.#options;
    this.store.uow.tx(() => this.store.uow.emit({ type: "identity_unlocked", uid: this.identity.uid }));
    this.delivery.start();
    network.setEventHandler({
      linkUp: () => void this.sync.configure(),
      linkDown: () => {
        this.#listenAddress = "";
        this.#greeted.clear();
        this.#askedForHello.clear();
        this.#channelIds.clear();
        for (const uid of this.presence.allDown()) this.delivery.peerDisconnected(uid);
      },
      peerConnected: (key, channelId) => this.#peerConnected(key, channelId),
      peerDisconnected: (key) => {
        const uid = uidFromPublicKey(key);
        this.#greeted.delete(uid);
        this.#askedForHello.delete(uid);
        this.#channelIds.delete(uid);
        this.presence.peerDown(uid);
        this.delivery.peerDisconnected(uid);
      },
      frame: (key, payload) => this.#inbound.push(key, payload),
    });
    if (network.available) void this.sync.configure();
  }

  /** Stops everything, wipes the key, closes the store. The network is unconfigured by the caller. */
  close(): void {
    this.#options.network.setEventHandler(undefined);
    this.sync.stop();
    this.#inbound.close();
    this.delivery.stop();
    this.acks.stop();
    this.presence.close();
    try {
      this.store.uow.tx(() => this.store.uow.emit({ type: "identity_locked", uid: this.identity.uid }));
    } catch (err) {
      // Locking must work on a full disk too: subscribers still hear of it (closed with
      // LockedError below); only the log entry is missing.
      this.#log.warn({ err }, "the lock could not be written to the event log");
    } finally {
      this.store.events.closeSubscribers(new LockedError("identity locked"));
      this.store.close();
      this.identity.privateKey.fill(0);
    }
  }

  ownCard(): Card {
    const { uid, name, publicKey, fingerprint } = this.identity;
    return { uid, name, publicKey, addresses: advertisedAddresses(this.#listenAddress, this.advertise()), fingerprint };
  }

  /** The address to advertise: the one set from a client (kept in the store) wins over --advertise. */
  advertise(): string {
    return this.store.settings.get(ADVERTISE_SETTING) || this.#options.advertise;
  }

  /** "" returns to --advertise, or to the addresses derived from the listener. */
  setAdvertise(address: string): void {
    this.store.settings.set(ADVERTISE_SETTING, address);
  }

  #peerConnected(key: Buffer, channelId: bigint): void {
    const contact = this.contacts.byKey(key);
    if (!contact) return;
    this.#channelIds.set(contact.uid, channelId);
    this.presence.peerUp(contact.uid);
    // On a duplicate channel (the same peer again) this also rewinds: everything still owed is
    // resent at once on the surviving channel, not after the retry delay.
    this.delivery.peerConnected(key, this.#hello(false), channelId);
  }

  #hello(replyRequested: boolean): Buffer {
    return helloEnvelope(this.identity.name, this.ownCard().addresses[0] ?? "", replyRequested);
  }

  #heardHello(contact: Contact, name: string, address: string, replyRequested: boolean): void {
    const weAsked = this.#askedForHello.delete(contact.uid);
    this.#greeted.add(contact.uid);
    this.contacts.refreshFromHello(contact, name, address);
    // One side lost the channel's Hello (a session restarted under a live channel) and refused
    // traffic: greet again and resend what we owe at once, so that it is stored and acked now
    // rather than after the retry delay.
    if ((replyRequested || weAsked) && this.presence.isConnected(contact.uid)) this.delivery.peerConnected(contact.publicKey, this.#hello(false), this.#channelIds.get(contact.uid) ?? 0n);
  }

  #refusedBeforeHello(contact: Contact): void {
    if (this.#askedForHello.has(contact.uid)) return;
    this.#askedForHello.add(contact.uid);
    void this.#options.network.send(contact.publicKey, this.#hello(true));
  }

  #handleFrames(frames: InboundFrame[]): void {
    const handlers: PeerFrameHandlers = {
      contactByKey: (key) => this.contacts.byKey(key),
      greeted: (contact) => this.#greeted.has(contact.uid),
      beforeHello: (contact) => this.#refusedBeforeHello(contact),
      hello: (contact, name, address, replyRequested) => this.#heardHello(contact, name, address, replyRequested),
      chat: (contact, body) => this.conversations.receiveChat(contact, body),
      groupMessage: (contact, body) => this.groups.receiveMessage(contact, body),
      groupUpdate: (contact, body) => this.groups.receiveUpdate(contact, body),
      ack: (contact, body) => this.acks.receive(contact, body),
      receipt: (contact, body) => this.conversations.receiveReceipt(contact, body, (groupId, uid) => this.groups.isMember(groupId, uid)),
    };
    const dispatchAll = () => {
      for (const frame of frames) dispatchPeerFrame(handlers, this.drops, frame.key, frame.payload, this.#log);
    };
    // Batches come in a group commit, inside a (save)point of their own already: a failure
    // rolls back the whole batch and is logged there. No second savepoint per batch.
    if (this.store.uow.inTransaction) return dispatchAll();
    try {
      this.store.uow.tx(dispatchAll);
    } catch (error) {
      // The batch could not be committed (e.g. the disk is full): nothing of it was stored, so
      // nothing of it is acked, and the peers resend it. Not a reason to stop the service.
      this.#log.error({ err: error, frames: frames.length }, "storing inbound frames failed; they were not acked");
    }
  }
}
