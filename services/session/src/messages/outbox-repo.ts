import type { Db } from "../store/database.js";

/**
 * The durable outbox: what we owe each peer, in FIFO order per recipient. Messages, group
 * updates and read receipts stay until the peer acks them; an entry without `needsAck` (none
 * are queued today) leaves once the network reports it written to the peer's channel.
 */
export interface OutboxEntry {
  seq: number;
  recipientUid: string;
  ackId: string;
  /** The message this entry carries ("" for group updates and receipts). Only these count toward a contact's outbox limit. */
  messageId: string;
  payload: Buffer;
  /** Stays until acked (messages, group updates, receipts); otherwise leaves once written. */
  needsAck: boolean;
  createdAt: number;
  attempts: number;
}

interface OutboxRow {
  seq: number;
  recipient_uid: string;
  ack_id: string;
  message_id: string;
  payload: Buffer;
  needs_ack: number;
  created_at: number;
  attempts: number;
}

const toEntry = (row: OutboxRow): OutboxEntry => ({
  seq: row.seq,
  recipientUid: row.recipient_uid,
  ackId: row.ack_id,
  messageId: row.message_id,
  payload: row.payload,
  needsAck: row.needs_ack === 1,
  createdAt: row.created_at,
  attempts: row.attempts,
});

/** The queries on the send and ack path, named so a test can check each one's plan uses an index. */
export const OUTBOX_HOT_QUERIES = {
  forRecipient: "SELECT * FROM outbox WHERE recipient_uid = ? AND seq > ? ORDER BY seq LIMIT ?",
  oldest: "SELECT seq FROM outbox WHERE recipient_uid = ? ORDER BY seq LIMIT 1",
  deleteBySeq: "DELETE FROM outbox WHERE seq = ? RETURNING recipient_uid, message_id, needs_ack",
  // An Ack frame's ids at once (a JSON array); IN also drops the duplicates a peer may send.
  deleteAcks: "DELETE FROM outbox WHERE recipient_uid = ? AND ack_id IN (SELECT value FROM json_each(?)) RETURNING ack_id, message_id, needs_ack",
  replacePayload: "UPDATE outbox SET payload = ? WHERE recipient_uid = ? AND ack_id = ? RETURNING seq",
  // A message's entries carry its id as their ack id (add checks it), so this searches outbox_by_ack.
  remainingFor: "SELECT count(*) AS n FROM outbox WHERE ack_id = ? AND message_id = ack_id AND needs_ack = 1",
};

/**
 * Whether anyone still owes an ack for the message whose id is in `idColumn`: the condition an
 * UPDATE of messages (MessageRepo.deliverUnowed) adds, so that acked messages are checked and
 * moved in one statement. A message's entries carry its id as their ack id (add checks it), so
 * this searches outbox_by_ack, like remainingFor.
 */
export const owedMessageExists = (idColumn: string): string =>
  `EXISTS (SELECT 1 FROM outbox WHERE ack_id = ${idColumn} AND message_id = ack_id AND needs_ack = 1)`;

/** Read once per recipient (then kept in memory), so it may search an index and read the rows it finds. */
const OWED_COUNT = "SELECT count(*) AS n FROM outbox WHERE recipient_uid = ? AND needs_ack = 1 AND message_id != ''";

/** Whether an entry counts toward its recipient's outbox limit: a message still to be acked. */
const isOwedMessage = (needsAck: boolean | number, messageId: string): boolean => Boolean(needsAck) && messageId !== "";

/**
 * Besides the rows, the repo keeps how many messages each recipient is owed, in memory: the
 * capacity check asks on every send, and counting the backlog each time cost O(backlog). A
 * recipient's count is read from the store the first time it is asked, then moved by every
 * add, ack and removal made through this repo (the only writer of the table). A rollback can
 * undo some of those moves, so the store's unit of work calls forgetOwedCounts on every
 * rolled-back (save)point, and the next look reads the store again.
 */
export class OutboxRepo {
  #owed = new Map<string, number>();
  /**
   * The last seq handed out. Seqs only grow while the store is open (a rolled-back one leaves
   * a gap), so a peer's channel, which skips seqs it has already taken, never mistakes a new
   * entry for an old one. Kept here rather than by AUTOINCREMENT, which writes sqlite_sequence
   * on every insert; across a restart no channel remembers a seq, so max(seq) is where to go on.
   */
  #lastSeq: number;
  #insert;
  #replacePayload;
  #oldest;
  #forRecipient;
  #count;
  #deleteBySeq;
  #deleteAcks;
  #remainingFor;
  #expired;
  #attempted;
  #deleteRecipient;

  constructor(db: Db) {
    // DO NOTHING, then an UPDATE when that inserted nothing: unlike an upsert, this tells a
    // new entry (which may change the owed count) from a replaced payload (which does not).
    // Positional parameters: binding by name looks each one up on an object, on every send.
    this.#insert = db.prepare<[number, string, string, string, Buffer, number, number]>(
      `INSERT INTO outbox (seq, recipient_uid, ack_id, message_id, payload, needs_ack, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (recipient_uid, ack_id) DO NOTHING`,
    );
    this.#lastSeq = (db.prepare("SELECT max(seq) AS seq FROM outbox").get() as { seq: number | null }).seq ?? 0;
    const q = OUTBOX_HOT_QUERIES;
    this.#replacePayload = db.prepare<[Buffer, string, string], { seq: number }>(q.replacePayload);
    this.#forRecipient = db.prepare<[string, number, number], OutboxRow>(q.forRecipient);
    this.#oldest = db.prepare<[string], { seq: number }>(q.oldest);
    this.#count = db.prepare<[string], { n: number }>(OWED_COUNT);
    this.#deleteBySeq = db.prepare<[number], { recipient_uid: string; message_id: string; needs_ack: number }>(q.deleteBySeq);
    this.#deleteAcks = db.prepare<[string, string], { ack_id: string; message_id: string; needs_ack: number }>(q.deleteAcks);
    // Searches outbox_by_ack (migration 8): every ack asks this, and the outbox can be long.
    this.#remainingFor = db.prepare<[string], { n: number }>(q.remainingFor);
    this.#expired = db.prepare<[number], OutboxRow>("SELECT * FROM outbox WHERE created_at < ? ORDER BY seq");
    this.#attempted = db.prepare("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?");
    this.#deleteRecipient = db.prepare("DELETE FROM outbox WHERE recipient_uid = ? RETURNING message_id");
  }

  /** Adds (or replaces the payload of) an entry; returns its seq, the FIFO position. */
  add(entry: Omit<OutboxEntry, "seq" | "attempts">): number {
    // remaining() finds a message's entries by ack id; an entry filed otherwise would be lost to it.
    if (entry.messageId !== "" && entry.messageId !== entry.ackId) throw new Error("a message's outbox entry must be acked by its message id");
    const seq = this.#lastSeq + 1;
    const { recipientUid, ackId, messageId, payload, needsAck, createdAt } = entry;
    if (this.#insert.run(seq, recipientUid, ackId, messageId, payload, needsAck ? 1 : 0, createdAt).changes === 1) {
      this.#lastSeq = seq;
      if (isOwedMessage(entry.needsAck, entry.messageId)) this.#adjustOwed(entry.recipientUid, 1);
      return seq;
    }
    // Already queued under this ack id: only the payload changes (its place and kind stay).
    return (this.#replacePayload.get(entry.payload, entry.recipientUid, entry.ackId) as { seq: number }).seq;
  }

  /** Entries for a recipient after `afterSeq`, oldest first. */
  pending(recipientUid: string, afterSeq: number, limit: number): OutboxEntry[] {
    return this.#forRecipient.all(recipientUid, afterSeq, limit).map(toEntry);
  }

  /** The seq of the oldest entry we still owe this recipient, or undefined when none. */
  oldestSeq(recipientUid: string): number | undefined {
    return this.#oldest.get(recipientUid)?.seq;
  }

  /** Messages this recipient has not acked yet (what the outbox limits count); O(1) after the first look. */
  pendingCount(recipientUid: string): number {
    let owed = this.#owed.get(recipientUid);
    if (owed === undefined) {
      owed = this.#count.get(recipientUid)?.n ?? 0;
      this.#owed.set(recipientUid, owed);
    }
    return owed;
  }

  /** Some changes to the table were rolled back: the counts read from now on come from the store. */
  forgetOwedCounts(): void {
    this.#owed.clear();
  }

  remove(seq: number): void {
    const row = this.#deleteBySeq.get(seq);
    if (row && isOwedMessage(row.needs_ack, row.message_id)) this.#adjustOwed(row.recipient_uid, -1);
  }

  /** Removes the entry a peer acked; returns its message id ("" for a receipt or group update), if it was there. */
  acknowledge(recipientUid: string, ackId: string): string | undefined {
    const { ackIds, messageIds } = this.acknowledgeAll(recipientUid, [ackId]);
    return ackIds.length === 0 ? undefined : (messageIds[0] ?? "");
  }

  /**
   * Removes, in one statement, the entries of this recipient that a peer acked. Returns the ack
   * ids that were there (each once, in no particular order) and, among them, the messages' ids
   * (receipts and group updates carry none). Ids we never queued for this recipient, or
   * already removed, are ignored.
   */
  acknowledgeAll(recipientUid: string, ackIds: readonly string[]): { ackIds: string[]; messageIds: string[] } {
    const rows = this.#deleteAcks.all(recipientUid, JSON.stringify(ackIds));
    const removed = { ackIds: new Array<string>(rows.length), messageIds: [] as string[] };
    let owed = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as { ack_id: string; message_id: string; needs_ack: number };
      removed.ackIds[i] = row.ack_id;
      if (row.message_id === "") continue;
      removed.messageIds.push(row.message_id);
      if (row.needs_ack === 1) owed++;
    }
    if (owed > 0) this.#adjustOwed(recipientUid, -owed);
    return removed;
  }

  /** How many recipients still owe an ack for this message. */
  remaining(messageId: string): number {
    return this.#remainingFor.get(messageId)?.n ?? 0;
  }

  expired(olderThan: number): OutboxEntry[] {
    return this.#expired.all(olderThan).map(toEntry);
  }

  markAttempted(seq: number): void {
    this.#attempted.run(seq);
  }

  removeRecipient(recipientUid: string): string[] {
    const removed = this.#deleteRecipient.all(recipientUid).map((r) => (r as { message_id: string }).message_id);
    this.#owed.set(recipientUid, 0);
    return removed;
  }

  /** Moves a count already in memory; one not yet read will include this change when it is. */
  #adjustOwed(recipientUid: string, delta: number): void {
    const owed = this.#owed.get(recipientUid);
    if (owed !== undefined) this.#owed.set(recipientUid, owed + delta);
  }
}
