import { InvalidArgumentError, LockedError, NotFoundError, type Logger, type ProfilePaths } from "@jarvis/core";
import type { Identity } from "../model.js";
import { Store } from "../store/store.js";
import type { Db } from "../store/database.js";
import {
  changePassword,
  createAccount,
  deleteAccountFiles,
  hasWeakKdf,
  identityExists,
  openAccount,
  openAccountWithKey,
  verifyPassword,
} from "../identity/account-files.js";
import { exportArchive, importArchive } from "../identity/account-archive.js";
import { UnlockedSession, type UnlockedSessionOptions } from "./unlocked-session.js";
import { MAX_PASSWORD_LENGTH } from "../constants.js";

/** What the session needs: the profile and key custody, plus what an unlocked identity runs with. */
export interface SessionOptions extends UnlockedSessionOptions {
  paths: ProfilePaths;
  /**
   * Who keeps the derived store key while the node is unlocked (the supervisor, so a crashed
   * session comes back unlocked): given a copy on every unlock/password change, told on lock.
   */
  keyCustody?: { hold(key: Buffer): void; wipe(): void };
}

export interface SessionStatus {
  identityExists: boolean;
  locked: boolean;
  uid: string;
  name: string;
  fingerprint: string;
  listenAddress: string;
  networkAvailable: boolean;
  /** The keyfile's KDF is cheaper than the default (a test profile). */
  weakKdf: boolean;
  /** The newest event's cursor (0 while locked): where a client's snapshot-then-subscribe starts. */
  latestCursor: number;
}

/**
 * The identity lifecycle: create, unlock, lock, change password, delete, export, import. Calls
 * run one at a time. New identities always get the default KDF; unlock uses whatever
 * parameters the keyfile records.
 */
export class IdentityLifecycle {
  #options: SessionOptions;
  #log: Logger;
  #unlocked: UnlockedSession | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SessionOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  status(): SessionStatus {
    const u = this.#unlocked;
    const exists = identityExists(this.#options.paths);
    return {
      identityExists: exists,
      locked: u === undefined,
      uid: u?.identity.uid ?? "",
      name: u?.identity.name ?? "",
      fingerprint: u?.identity.fingerprint ?? "",
      listenAddress: u?.listenAddress ?? "",
      networkAvailable: this.#options.network.available,
      weakKdf: exists && hasWeakKdf(this.#options.paths),
      latestCursor: u?.store.events.latestCursor() ?? 0,
    };
  }

  requireUnlocked(): UnlockedSession {
    if (!this.#unlocked) {
      throw identityExists(this.#options.paths) ? new LockedError() : new LockedError("no identity yet: create one first (jarvis init)");
    }
    return this.#unlocked;
  }

  createIdentity(name: string, password: string): Promise<Identity> {
    return this.#serial(async () => {
      const clean = name.trim();
      if (clean.length === 0 || clean.length > 64) throw new InvalidArgumentError("name must be 1 to 64 characters");
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(clean)) throw new InvalidArgumentError("name must not contain control characters");
      const { db, identity } = await createAccount(this.#options.paths, clean, checkPassword(password), undefined, this.#keySink);
      return this.#open(db, identity);
    });
  }

  unlock(password: string): Promise<Identity> {
    return this.#serial(async () => {
      checkPassword(password);
      if (this.#unlocked) {
        await verifyPassword(this.#options.paths, password);
        return this.#unlocked.identity;
      }
      const { db, identity } = await openAccount(this.#options.paths, password, this.#keySink);
      return this.#open(db, identity);
    });
  }

  /** Unlocks with a key derived before (handed back by the supervisor after a crash): no Argon2. */
  unlockWithKey(key: Buffer): Promise<Identity> {
    return this.#serial(async () => {
      if (this.#unlocked) return this.#unlocked.identity;
      const { db, identity } = openAccountWithKey(this.#options.paths, key);
      return this.#open(db, identity);
    });
  }

  lock(): Promise<void> {
    return this.#serial(async () => {
      await this.#close();
      this.#options.keyCustody?.wipe();
    });
  }

  changePassword(oldPassword: string, newPassword: string): Promise<void> {
    return this.#serial(async () => {
      const u = this.requireUnlocked();
      await changePassword(this.#options.paths, u.store, checkPassword(oldPassword, "old_password"), checkPassword(newPassword, "new_password"), this.#keySink);
    });
  }

  deleteIdentity(password: string): Promise<void> {
    return this.#serial(async () => {
      checkPassword(password);
      if (!identityExists(this.#options.paths)) throw new NotFoundError("no identity in this profile", "no-identity");
      await verifyPassword(this.#options.paths, password);
      await this.#close();
      this.#options.keyCustody?.wipe();
      deleteAccountFiles(this.#options.paths);
    });
  }

  exportAccount(password: string): Promise<Buffer> {
    return this.#serial(async () => exportArchive(this.#options.paths, this.requireUnlocked().store, checkPassword(password)));
  }

  importAccount(archive: Uint8Array, password: string): Promise<Identity> {
    return this.#serial(async () => {
      if (archive.length === 0) throw new InvalidArgumentError("archive is required");
      await importArchive(this.#options.paths, archive, checkPassword(password));
      try {
        const { db, identity } = await openAccount(this.#options.paths, password, this.#keySink);
        return this.#open(db, identity);
      } catch (error) {
        deleteAccountFiles(this.#options.paths);
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.#serial(() => this.#close());
  }

  #keySink = (key: Buffer) => this.#options.keyCustody?.hold(key);

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #open(db: Db, identity: Identity): Identity {
    const { clock, network, listen, advertise, presenceSettleMs } = this.#options;
    const store = new Store(db, () => clock.now());
    const logger = this.#log.child({ component: "account" });
    this.#unlocked = new UnlockedSession(store, identity, { clock, logger, network, listen, advertise, presenceSettleMs });
    this.#unlocked.start();
    this.#log.info({ uid: identity.uid }, "identity unlocked");
    return identity;
  }

  async #close(): Promise<void> {
    const unlocked = this.#unlocked;
    if (!unlocked) return;
    this.#unlocked = undefined;
    unlocked.close();
    await this.#options.network.unconfigure().catch((error: unknown) => this.#log.warn({ err: error }, "network unconfigure failed"));
    this.#log.info({}, "identity locked");
  }
}

function checkPassword(value: string, field = "password"): string {
  if (value.length === 0) throw new InvalidArgumentError(`${field} is required`);
  if (value.length > MAX_PASSWORD_LENGTH) throw new InvalidArgumentError(`${field} is too long`);
  return value;
}
