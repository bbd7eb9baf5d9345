import { formatHostPort, parseHostPort, type Clock, type Logger } from "@jarvis/core";
import type { Contact } from "../model.js";
import type { PeerNetwork } from "../peer-network.js";
import type { ContactRepo } from "../contacts/contact-repo.js";
import type { SettingsRepo } from "../store/settings-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";
import { DIAL_INTERVAL_PER_ADDRESS_MS } from "../constants.js";

export interface NetworkSyncDeps {
  clock: Clock;
  log: Logger;
  network: PeerNetwork;
  uow: UnitOfWork;
  contacts: ContactRepo;
  settings: SettingsRepo;
  privateKey: Buffer;
  /** host:port to listen on for peers. */
  listen: string;
  /** Told the bound address after (re)configuring; "" when not listening. */
  listening: (address: string) => void;
}

/**
 * Keeps the network service in step with the unlocked identity: configure it (key, listener,
 * allowed keys) whenever the Link comes up, and update the allowed keys and dials whenever the
 * contacts change.
 */
export class NetworkSync {
  #deps: NetworkSyncDeps;
  #stopped = false;
  /** When we last asked the network to dial each address: a group update must not make us redial an address of the sender's choosing. */
  #lastDial = new Map<string, number>();

  constructor(deps: NetworkSyncDeps) {
    this.#deps = deps;
  }

  /** After lock: answers that arrive late must not touch the closed store. */
  stop(): void {
    this.#stopped = true;
  }

  async configure(): Promise<void> {
    const { contacts, log } = this.#deps;
    const listening = (address: string) => {
      if (!this.#stopped) this.#deps.listening(address);
    };
    try {
      const keys = contacts.list().map((c) => c.publicKey);
      listening(await this.#listen(keys));
      await this.#dialAll();
    } catch (error) {
      listening("");
      log.error({ err: error }, "configuring the network failed");
    }
  }

  /**
   * One allow-list update for the whole change (linear in the contacts), and dials for the
   * contacts that are new only — learning 62 members costs 62 dials, not 62 × 62.
   */
  async contactsChanged(added: Contact[] = []): Promise<void> {
    const { network, contacts, log } = this.#deps;
    if (!network.available || this.#stopped) return;
    try {
      await network.setAllowed(contacts.list().map((c) => c.publicKey));
      if (!this.#stopped) await this.#dial(added);
    } catch (error) {
      log.warn({ err: error }, "updating network peers failed");
    }
  }

  async #dialAll(): Promise<void> {
    this.#lastDial.clear();
    await this.#dial(this.#deps.contacts.list());
  }

  async #dial(contacts: Contact[]): Promise<void> {
    for (const contact of contacts) {
      if (this.#stopped) return;
      const addresses = contact.addresses.filter((address) => this.#mayDial(address));
      if (addresses.length > 0) await this.#deps.network.dial(contact.publicKey, addresses);
    }
  }

  #mayDial(address: string): boolean {
    const now = this.#deps.clock.now();
    const last = this.#lastDial.get(address);
    if (last !== undefined && now - last < DIAL_INTERVAL_PER_ADDRESS_MS) return false;
    this.#lastDial.set(address, now);
    return true;
  }

  /**
   * With "port 0" the node keeps the port it got the first time, so the address on cards
   * already handed out stays valid across restarts; if that port is taken, it takes a new one.
   */
  async #listen(keys: Buffer[]): Promise<string> {
    const { network, settings, uow, privateKey, listen, log } = this.#deps;
    const wanted = parseHostPort(listen, { allowZeroPort: true });
    const saved = Number(settings.get("listen_port") ?? 0);
    if (wanted.port === 0 && saved > 0) {
      try {
        return await network.configure(privateKey, formatHostPort({ host: wanted.host, port: saved }), keys);
      } catch (error) {
        log.warn({ err: error, port: saved }, "saved listen port unavailable; picking a new one");
      }
    }
    const bound = await network.configure(privateKey, listen, keys);
    if (wanted.port === 0 && !this.#stopped) uow.tx(() => settings.set("listen_port", String(parseHostPort(bound).port)));
    return bound;
  }
}
