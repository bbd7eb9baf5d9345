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
  count: "SELECT count(*) AS n FROM outbox WHERE recipient_uid = ? AND needs_ack = 1 AND message_id != ''",
  deleteBySeq: "DELETE FROM outbox WHERE seq = ?",
  deleteAck: "DELETE FROM outbox WHERE recipient_uid = ? AND ack_id = ? RETURNING message_id",
  remainingFor: "SELECT count(*) AS n FROM outbox WHERE message_id = ? AND needs_ack = 1",
};

export class OutboxRepo {
  #insert;
  #oldest;
  #forRecipient;
  #count;
  #deleteBySeq;
  #deleteAck;
  #remainingFor;
  #expired;
  #attempted;
  #deleteRecipient;

  constructor(db: Db) {
    this.#insert = db.prepare(
      `INSERT INTO outbox (recipient_uid, ack_id, message_id, payload, needs_ack, created_at)
       VALUES (@recipientUid, @ackId, @messageId, @payload, @needsAck, @createdAt)
       ON CONFLICT (recipient_uid, ack_id) DO UPDATE SET payload = excluded.payload
       RETURNING seq`,
    );
    const q = OUTBOX_HOT_QUERIES;
    this.#forRecipient = db.prepare<[string, number, number], OutboxRow>(q.forRecipient);
    this.#oldest = db.prepare<[string], { seq: number }>(q.oldest);
    this.#count = db.prepare<[string], { n: number }>(q.count);
    this.#deleteBySeq = db.prepare(q.deleteBySeq);
    this.#deleteAck = db.prepare<[string, string], { message_id: string }>(q.deleteAck);
    // Indexed by outbox_owed (migration 7): every ack asks this, and the outbox can be long.
    this.#remainingFor = db.prepare<[string], { n: number }>(q.remainingFor);
    this.#expired = db.prepare<[number], OutboxRow>("SELECT * FROM outbox WHERE created_at < ? ORDER BY seq");
    this.#attempted = db.prepare("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?");
    this.#deleteRecipient = db.prepare("DELETE FROM outbox WHERE recipient_uid = ? RETURNING message_id");
  }

  /** Adds (or replaces the payload of) an entry; returns its seq, the FIFO position. */
  add(entry: Omit<OutboxEntry, "seq" | "attempts">): number {
    const row = this.#insert.get({ ...entry, needsAck: entry.needsAck ? 1 : 0 }) as { seq: number };
    return row.seq;
  }

  /** Entries for a recipient after `afterSeq`, oldest first. */
  pending(recipientUid: string, afterSeq: number, limit: number): OutboxEntry[] {
    return this.#forRecipient.all(recipientUid, afterSeq, limit).map(toEntry);
  }

  /** The seq of the oldest entry we still owe this recipient, or undefined when none. */
  oldestSeq(recipientUid: string): number | undefined {
    return this.#oldest.get(recipientUid)?.seq;
  }

  pendingCount(recipientUid: string): number {
    return this.#count.get(recipientUid)?.n ?? 0;
  }

  remove(seq: number): void {
    this.#deleteBySeq.run(seq);
  }

  /** Removes the entry a peer acked; returns its message id, if it was ours to track. */
  acknowledge(recipientUid: string, ackId: string): string | undefined {
    return this.#deleteAck.get(recipientUid, ackId)?.message_id;
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
    return this.#deleteRecipient.all(recipientUid).map((r) => (r as { message_id: string }).message_id);
  }
}
