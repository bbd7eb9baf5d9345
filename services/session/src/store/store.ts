import { ContactRepo } from "../contacts/contact-repo.js";
import { MessageRepo } from "../messages/message-repo.js";
import { OutboxRepo } from "../messages/outbox-repo.js";
import { GroupRepo } from "../groups/group-repo.js";
import { EventLog, type EventLogOptions } from "../events/event-log.js";
import { SettingsRepo } from "./settings-repo.js";
import { SendKeyRepo } from "./send-key-repo.js";
import { UnitOfWork } from "./unit-of-work.js";
import { SequenceCounters } from "./sequence-counters.js";
import { checkpoint, checkpointerOf, checkpointForRoom, rekeyDatabase, type Db } from "./database.js";

/**
 * An open encrypted store: its repositories and its unit of work. The SQLite handle stays in
 * here; the rest of the session sees repositories only.
 */
export class Store {
  readonly contacts: ContactRepo;
  readonly messages: MessageRepo;
  readonly outbox: OutboxRepo;
  readonly groups: GroupRepo;
  readonly settings: SettingsRepo;
  readonly sendKeys: SendKeyRepo;
  readonly events: EventLog;
  readonly uow: UnitOfWork;
  #db: Db;
  #checkpointFailureListeners: ((error: Error) => void)[] = [];

  constructor(db: Db, now: () => number, options: { eventLog?: EventLogOptions } = {}) {
    this.#db = db;
    const sequences = new SequenceCounters(db);
    this.contacts = new ContactRepo(db, sequences);
    this.messages = new MessageRepo(db);
    this.outbox = new OutboxRepo(db);
    this.groups = new GroupRepo(db, sequences);
    this.settings = new SettingsRepo(db);
    this.sendKeys = new SendKeyRepo(db);
    this.events = new EventLog(db, now, options.eventLog);
    this.uow = new UnitOfWork(db, this.events, { makeRoom: () => checkpointForRoom(db) });
    this.uow.onTransactionEnd(() => this.contacts.transactionEnded());
    this.uow.onRollback(() => {
      this.outbox.forgetOwedCounts();
      sequences.forget();
      this.messages.reloadLastPosition();
      this.events.reloadLastCursor();
    });
    // Looked up per transaction: a rekey replaces the worker.
    this.uow.onTransactionEnd((committed) => {
      if (committed) checkpointerOf(db)?.committed();
      else checkpointerOf(db)?.hold();
    });
  }

  /**
   * Hears a failure of the worker that checkpoints the WAL (the store goes on, checkpointing
   * on its own connection again): the session logs it.
   */
  onCheckpointFailure(listener: (error: Error) => void): void {
    this.#checkpointFailureListeners.push(listener);
    checkpointerOf(this.#db)?.onFailure(listener);
  }

  /** Re-encrypts every page under a new key (ChangePassword). */
  rekey(key: Buffer): void {
    rekeyDatabase(this.#db, key);
    for (const listener of this.#checkpointFailureListeners) checkpointerOf(this.#db)?.onFailure(listener);
  }

  /** Folds the WAL into the main file so the file alone is a complete snapshot (export). */
  checkpoint(): void {
    checkpoint(this.#db);
  }

  close(): void {
    this.uow.close();
    this.#db.close();
  }
}
