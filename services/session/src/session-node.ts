import {
  InvalidArgumentError,
  LockedError,
  formatHostPort,
  NotFoundError,
  parseHostPort,
  uidFromPublicKey,
  type Clock,
  type Logger,
  type ProfilePaths,
} from "@jarvis/core";
import { Account } from "./account.js";
import { ContactService } from "./contacts/contact-service.js";
import { Messaging } from "./messages/messaging.js";
import { GroupService } from "./groups/group-service.js";
import { handlePeerFrame } from "./inbound.js";
import type { NetworkPeer, PeerNetwork } from "./peer-network.js";
import type { Identity, Presence } from "./model.js";
import { DEFAULT_KDF, type KdfParams } from "./store/key-derivation.js";
import {
  changePassword,
  createAccount,
  deleteAccountFiles,
  exportArchive,
  identityExists,
  importArchive,
  openAccount,
  verifyPassword,
} from "./identity/account-files.js";

export interface SessionNodeOptions {
  paths: ProfilePaths;
  clock: Clock;
  logger: Logger;
  network: PeerNetwork;
  listen: string;
  advertise: string;
  kdf?: KdfParams;
}

export interface Unlocked {
  account: Account;
  contacts: ContactService;
  messaging: Messaging;
  groups: GroupService;
}

export interface SessionStatus {
  identityExists: boolean;
  locked: boolean;
  uid: string;
  name: string;
  fingerprint: string;
  listenAddress: string;
  networkAvailable: boolean;
}

/**
 * The session service's domain root: the identity lifecycle (create, unlock, lock, change
 * password, delete, export, import) and, while unlocked, the wiring between the network's
 * events and the contact, message and group services. Lifecycle calls run one at a time.
 */
export class SessionNode {
  #options: SessionNodeOptions;
  #log: Logger;
  #unlocked: Unlocked | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #presence = new Map<string, Presence>();
  #inbound: { key: Buffer; payload: Buffer }[] = [];

  constructor(options: SessionNodeOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  status(): SessionStatus {
    const account = this.#unlocked?.account;
    return {
      identityExists: identityExists(this.#options.paths),
      locked: account === undefined,
      uid: account?.identity.uid ?? "",
      name: account?.identity.name ?? "",
      fingerprint: account?.identity.fingerprint ?? "",
      listenAddress: account?.listenAddress ?? "",
      networkAvailable: this.#options.network.available,
    };
  }

  requireUnlocked(): Unlocked {
    if (!this.#unlocked) {
      throw identityExists(this.#options.paths) ? new LockedError() : new LockedError("no identity yet: create one first (jarvis init)");
    }
    return this.#unlocked;
  }

  get identity(): Identity | undefined {
    return this.#unlocked?.account.identity;
  }

  createIdentity(name: string, password: string): Promise<Identity> {
    return this.#serial(async () => {
      const clean = name.trim();
      if (clean.length === 0 || clean.length > 64) throw new InvalidArgumentError("name must be 1 to 64 characters");
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(clean)) throw new InvalidArgumentError("name must not contain control characters");
      const { db, identity } = await createAccount(this.#options.paths, clean, password, this.#kdf);
      return this.#open(db, identity);
    });
  }

  unlock(password: string): Promise<Identity> {
    return this.#serial(async () => {
      if (this.#unlocked) {
        await verifyPassword(this.#options.paths, password);
        return this.#unlocked.account.identity;
      }
      const { db, identity } = await openAccount(this.#options.paths, password);
      return this.#open(db, identity);
    });
  }

  lock(): Promise<void> {
    return this.#serial(() => this.#close());
  }

  changePassword(oldPassword: string, newPassword: string): Promise<void> {
    return this.#serial(async () => {
      const { account } = this.requireUnlocked();
      await changePassword(this.#options.paths, account.db, oldPassword, newPassword);
    });
  }

  deleteIdentity(password: string): Promise<void> {
    return this.#serial(async () => {
      if (!identityExists(this.#options.paths)) throw new NotFoundError("no identity in this profile", "no-identity");
      await verifyPassword(this.#options.paths, password);
      await this.#close();
      deleteAccountFiles(this.#options.paths);
    });
  }

  exportAccount(password: string): Promise<Buffer> {
    return this.#serial(async () => exportArchive(this.#options.paths, this.requireUnlocked().account.db, password));
  }

  importAccount(archive: Uint8Array, password: string): Promise<Identity> {
    return this.#serial(async () => {
      await importArchive(this.#options.paths, archive, password, this.#kdf);
      try {
        const { db, identity } = await openAccount(this.#options.paths, password);
        return this.#open(db, identity);
      } catch (error) {
        deleteAccountFiles(this.#options.paths);
        throw error;
      }
    });
  }

  async listPeers(): Promise<{ uid: string; name: string; presence: Presence; peer: NetworkPeer | undefined }[]> {
    const { account } = this.requireUnlocked();
    const peers = this.#options.network.available ? await this.#options.network.listPeers().catch(() => []) : [];
    const byUid = new Map(peers.map((p) => [uidFromPublicKey(p.publicKey), p]));
    return account.contacts.list().map((c) => ({ uid: c.uid, name: c.alias || c.name, presence: account.presenceOf(c.uid), peer: byUid.get(c.uid) }));
  }

  async connectPeer(query: string, address: string): Promise<void> {
    const { contacts } = this.requireUnlocked();
    const contact = contacts.resolve(query);
    if (address) parseHostPort(address);
    const addresses = address ? [address, ...contact.addresses] : contact.addresses;
    if (addresses.length === 0) throw new InvalidArgumentError("no address known for this contact; pass one", "no-address");
    await this.#options.network.dial(contact.publicKey, addresses);
  }

  close(): Promise<void> {
    return this.#serial(() => this.#close());
  }

  get #kdf(): KdfParams {
    return this.#options.kdf ?? DEFAULT_KDF;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #open(db: Account["db"], identity: Identity): Identity {
    const { clock, network, listen, advertise } = this.#options;
    const account = new Account(db, identity, { clock, logger: this.#log.child({ component: "account" }), network, listen, advertise });
    const contacts = new ContactService(account);
    const messaging = new Messaging(account);
    const groups = new GroupService(account, contacts, messaging);
    this.#unlocked = { account, contacts, messaging, groups };
    account.onContactsChanged = () => void this.#syncNetwork();
    account.tx(() => account.emit({ type: "identity_unlocked", uid: identity.uid }));
    messaging.start();
    network.setEventHandler({
      linkUp: () => void this.#configureNetwork(),
      linkDown: () => {
        account.listenAddress = "";
        for (const uid of account.connected) messaging.peerDisconnected(uid);
        account.connected.clear();
        this.#refreshPresence();
      },
      peerConnected: (key) => this.#onPeerConnected(key),
      peerDisconnected: (key) => this.#onPeerDisconnected(key),
      frame: (key, payload) => this.#onFrame(key, payload),
      frameDropped: (key, code) => this.#log.debug({ peer: uidFromPublicKey(key).slice(0, 8), code }, "frame not sent"),
    });
    if (network.available) void this.#configureNetwork();
    this.#log.info({ uid: identity.uid }, "identity unlocked");
    return identity;
  }

  async #close(): Promise<void> {
    const unlocked = this.#unlocked;
    if (!unlocked) return;
    const { account, messaging } = unlocked;
    this.#unlocked = undefined;
    this.#presence.clear();
    this.#options.network.setEventHandler(undefined);
    messaging.stop();
    try {
      account.tx(() => account.emit({ type: "identity_locked", uid: account.identity.uid }));
    } finally {
      account.events.closeSubscribers(new LockedError("identity locked"));
      account.db.close();
      account.identity.privateKey.fill(0);
    }
    await this.#options.network.unconfigure().catch((error: unknown) => this.#log.warn({ err: error }, "network unconfigure failed"));
    this.#log.info({}, "identity locked");
  }

  async #configureNetwork(): Promise<void> {
    const unlocked = this.#unlocked;
    if (!unlocked) return;
    const { account } = unlocked;
    const network = this.#options.network;
    try {
      const keys = account.contacts.list().map((c) => c.publicKey);
      account.listenAddress = await this.#listen(account, keys);
      for (const contact of account.contacts.list()) {
        if (contact.addresses.length > 0) await network.dial(contact.publicKey, contact.addresses);
      }
    } catch (error) {
      account.listenAddress = "";
      this.#log.error({ err: error }, "configuring the network failed");
    }
    this.#refreshPresence();
  }

  /**
   * With "port 0" the node keeps the port it got the first time, so the address on cards
   * already handed out stays valid across restarts; if that port is taken, it takes a new one.
   */
  async #listen(account: Account, keys: Buffer[]): Promise<string> {
    const network = this.#options.network;
    const wanted = parseHostPort(this.#options.listen, { allowZeroPort: true });
    const saved = Number(account.settings.get("listen_port") ?? 0);
    if (wanted.port === 0 && saved > 0) {
      try {
        return await network.configure(account.identity.privateKey, formatHostPort({ host: wanted.host, port: saved }), keys);
      } catch (error) {
        this.#log.warn({ err: error, port: saved }, "saved listen port unavailable; picking a new one");
      }
    }
    const bound = await network.configure(account.identity.privateKey, this.#options.listen, keys);
    if (wanted.port === 0) account.tx(() => account.settings.set("listen_port", String(parseHostPort(bound).port)));
    return bound;
  }

  async #syncNetwork(): Promise<void> {
    const unlocked = this.#unlocked;
    if (!unlocked || !this.#options.network.available) return;
    const contacts = unlocked.account.contacts.list();
    try {
      await this.#options.network.setAllowed(contacts.map((c) => c.publicKey));
      for (const contact of contacts) {
        if (contact.addresses.length > 0) await this.#options.network.dial(contact.publicKey, contact.addresses);
      }
    } catch (error) {
      this.#log.warn({ err: error }, "updating network peers failed");
    }
    this.#refreshPresence();
  }

  #onPeerConnected(key: Buffer): void {
    const unlocked = this.#unlocked;
    const contact = unlocked?.account.contactByKey(key);
    if (!unlocked || !contact) return;
    unlocked.account.connected.add(contact.uid);
    unlocked.messaging.peerConnected(contact);
    this.#refreshPresence();
  }

  #onPeerDisconnected(key: Buffer): void {
    const unlocked = this.#unlocked;
    if (!unlocked) return;
    const uid = uidFromPublicKey(key);
    unlocked.account.connected.delete(uid);
    unlocked.messaging.peerDisconnected(uid);
    this.#refreshPresence();
  }

  /**
   * Frames that arrive together are handled together: one transaction per batch instead of
   * one per message, which is most of the cost of receiving.
   */
  #onFrame(key: Buffer, payload: Buffer): void {
    this.#inbound.push({ key, payload });
    if (this.#inbound.length > 1) return;
    setImmediate(() => {
      const frames = this.#inbound;
      this.#inbound = [];
      const unlocked = this.#unlocked;
      if (!unlocked) return;
      unlocked.account.batch(() => {
        for (const frame of frames) handlePeerFrame(unlocked, frame.key, frame.payload, this.#log);
      });
    });
  }

  /** Emits presence events for contacts and groups whose status changed. */
  #refreshPresence(): void {
    const unlocked = this.#unlocked;
    if (!unlocked) return;
    const { account } = unlocked;
    const changes: (() => void)[] = [];
    for (const contact of account.contacts.list()) {
      const presence = account.presenceOf(contact.uid);
      if (this.#presence.get(contact.uid) === presence) continue;
      this.#presence.set(contact.uid, presence);
      changes.push(() => account.emit({ type: "presence_changed", uid: contact.uid, presence }));
    }
    for (const group of account.groups.list()) {
      const presence = account.groupPresence(group);
      if (this.#presence.get(group.id) === presence) continue;
      this.#presence.set(group.id, presence);
      changes.push(() => account.emit({ type: "group_changed", group: account.groupView(group) }));
    }
    if (changes.length > 0) account.tx(() => changes.forEach((emit) => emit()));
  }
}

