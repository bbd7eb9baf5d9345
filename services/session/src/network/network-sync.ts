import { formatHostPort, parseHostPort, type Logger } from "@jarvis/core";
import type { PeerNetwork } from "../peer-network.js";
import type { ContactRepo } from "../contacts/contact-repo.js";
import type { SettingsRepo } from "../store/settings-repo.js";
import type { UnitOfWork } from "../store/unit-of-work.js";

export interface NetworkSyncDeps {
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

  async contactsChanged(): Promise<void> {
    const { network, contacts, log } = this.#deps;
    if (!network.available || this.#stopped) return;
    try {
      await network.setAllowed(contacts.list().map((c) => c.publicKey));
      if (!this.#stopped) await this.#dialAll();
    } catch (error) {
      log.warn({ err: error }, "updating network peers failed");
    }
  }

  async #dialAll(): Promise<void> {
    for (const contact of this.#deps.contacts.list()) {
      if (this.#stopped) return;
      if (contact.addresses.length > 0) await this.#deps.network.dial(contact.publicKey, contact.addresses);
    }
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
