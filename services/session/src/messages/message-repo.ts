import type { Db } from "../store/database.js";
import type { Message, MessageState, UnreadCount } from "../model.js";
import { owedMessageExists } from "./outbox-repo.js";

const STATES: MessageState[] = ["queued", "sent", "delivered", "read", "failed", "received"];
const stateCode = (state: MessageState) => STATES.indexOf(state);

/** A messages row as SQLite returns it (also read by the event log to rebuild message events). */
export interface MessageRow {
  position: number;
  id: string;
  conversation_id: string;
  sender_uid: string;
  outgoing: number;
  text: string;
  state: number;
  sequence: number;
  sent_at: number;
  received_at: number;
  read: number;
}

export const toMessage = (row: MessageRow): Message => ({
  position: row.position,
  id: row.id,
  conversationId: row.conversation_id,
  senderUid: row.sender_uid,
  outgoing: row.outgoing === 1,
  text: row.text,
  state: STATES[row.state] ?? "failed",
  sequence: row.sequence,
  sentAt: row.sent_at,
  receivedAt: row.received_at,
  read: row.read === 1,
});

/** The queries on the send, receive, ack and paging paths, named so a test can check each one's plan. */
export const MESSAGE_HOT_QUERIES = {
  byId: "SELECT * FROM messages WHERE sender_uid = ? AND id = ?",
  setState: "UPDATE messages SET state = ? WHERE sender_uid = ? AND id = ?",
  // States 0–3 (queued, sent, delivered, read) only move forward; failed (4) and received (5) never do.
  advance: "UPDATE messages SET state = ? WHERE sender_uid = ? AND id = ? AND outgoing = 1 AND state < ? RETURNING conversation_id",
  // An ack's or a written report's ids at once (a JSON array), in any conversation.
  advanceAll: "UPDATE messages SET state = ? WHERE sender_uid = ? AND id IN (SELECT value FROM json_each(?)) AND outgoing = 1 AND state < ? RETURNING id, conversation_id AS conversationId",
  // The same for acked messages, skipping those another recipient still owes (a group message
  // is delivered only once every member acked): the check rides in the UPDATE, not a query of its own.
  advanceAllUnowed: `UPDATE messages SET state = ? WHERE sender_uid = ? AND id IN (SELECT value FROM json_each(?)) AND outgoing = 1 AND state < ?
    AND NOT ${owedMessageExists("messages.id")} RETURNING id, conversation_id AS conversationId`,
  // A receipt's ids at once (a JSON array): `+conversation_id` keeps the planner on the
  // (sender_uid, id) index instead of walking the whole conversation.
  advanceInConversation:
    "UPDATE messages SET state = ? WHERE sender_uid = ? AND id IN (SELECT value FROM json_each(?)) AND outgoing = 1 AND state < ? AND +conversation_id = ? RETURNING id",
  behindElsewhere:
    "SELECT id, conversation_id FROM messages WHERE sender_uid = ? AND id IN (SELECT value FROM json_each(?)) AND outgoing = 1 AND state < ? AND +conversation_id <> ?",
  newest: "SELECT * FROM messages WHERE conversation_id = ? ORDER BY position DESC LIMIT ?",
  before: "SELECT * FROM messages WHERE conversation_id = ? AND position < ? ORDER BY position DESC LIMIT ?",
  after: "SELECT * FROM messages WHERE conversation_id = ? AND position > ? AND position < ? ORDER BY position ASC LIMIT ?",
};

/** The last position handed out: the newest row's, or a deleted newer one's (migration 10). */
const LAST_POSITION = `SELECT max(coalesce((SELECT max(position) FROM messages), 0),
  coalesce((SELECT value FROM counters WHERE name = 'messages_position_floor'), 0)) AS position`;

/**
 * Messages of all conversations; position is the local, monotonic paging cursor. The repo
 * hands positions out itself (no AUTOINCREMENT, whose sqlite_sequence row every insert
 * rewrote): one more than the last, never one a deleted message had, since events refer to
 * messages by position. A rollback may undo inserts, so the store's unit of work has the repo
 * read the last position again (reloadLastPosition).
 */
export class MessageRepo {
  #lastPosition: number;
  #readLastPosition;
  #raisePositionFloor;
  #insert;
  #byId;
  #setState;
  #advance;
  #advanceAll;
  #advanceAllUnowed;
  #advanceInConversation;
  #behindElsewhere;
  #newest;
  #before;
  #after;
  #unreadIds;
  #newestUnread;
  #markRead;
  #uncount;
  #unreadCounts;
  #deleteConversation;

  constructor(db: Db) {
    // Positional parameters: binding by name looks each one up on an object, on every message.
    this.#insert = db.prepare<[number, string, string, string, number, string, number, number, number, number, number]>(
      `INSERT INTO messages (position, id, conversation_id, sender_uid, outgoing, text, state, sequence, sent_at, received_at, read)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sender_uid, id) DO NOTHING`,
    );
    this.#readLastPosition = db.prepare<[], { position: number }>(LAST_POSITION);
    this.#lastPosition = this.#readLastPosition.get()?.position ?? 0;
    this.#raisePositionFloor = db.prepare<[number]>(
      `INSERT INTO counters (name, value) VALUES ('messages_position_floor', ?)
       ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`,
    );
    const q = MESSAGE_HOT_QUERIES;
    this.#byId = db.prepare<[string, string], MessageRow>(q.byId);
    this.#setState = db.prepare(q.setState);
    this.#advance = db.prepare<[number, string, string, number], { conversation_id: string }>(q.advance);
    this.#advanceAll = db.prepare<[number, string, string, number], { id: string; conversationId: string }>(q.advanceAll);
    this.#advanceAllUnowed = db.prepare<[number, string, string, number], { id: string; conversationId: string }>(q.advanceAllUnowed);
    this.#advanceInConversation = db.prepare<[number, string, string, number, string], { id: string }>(q.advanceInConversation);
    this.#behindElsewhere = db.prepare<[string, string, number, string], { id: string; conversation_id: string }>(q.behindElsewhere);
    this.#newest = db.prepare<[string, number], MessageRow>(q.newest);
    this.#before = db.prepare<[string, number, number], MessageRow>(q.before);
    this.#after = db.prepare<[string, number, number, number], MessageRow>(q.after);
    // Both walk the partial unread index (conversation_id, then position as its rowid).
    this.#unreadIds = db.prepare<[string, number, number, number], { position: number; id: string; sender_uid: string }>(
      `SELECT position, id, sender_uid FROM messages INDEXED BY messages_unread
       WHERE conversation_id = ? AND outgoing = 0 AND read = 0 AND position > ? AND position <= ? ORDER BY position LIMIT ?`,
    );
    this.#newestUnread = db.prepare<[string], { position: number | null }>(
      "SELECT max(position) AS position FROM messages INDEXED BY messages_unread WHERE conversation_id = ? AND outgoing = 0 AND read = 0",
    );
    this.#markRead = db.prepare(
      "UPDATE messages SET read = 1 WHERE conversation_id = ? AND outgoing = 0 AND read = 0 AND position > ? AND position <= ?",
    );
    // Inserts and deletes keep it by trigger (migration 5); markRead adjusts it itself (migration 9).
    this.#uncount = db.prepare("UPDATE unread_counts SET unread = unread - ? WHERE conversation_id = ?");
    this.#unreadCounts = db.prepare<[], { conversation_id: string; unread: number }>(
      "SELECT conversation_id, unread FROM unread_counts WHERE unread > 0 ORDER BY conversation_id",
    );
    this.#deleteConversation = db.prepare("DELETE FROM messages WHERE conversation_id = ?");
  }

  /**
   * Inserts unless this sender already has a message with this id; returns the stored message,
   * or undefined for a duplicate. Ids are unique per sender only: another sender's message
   * with the same id is a different message (design §5, message identity).
   */
  insert(message: Omit<Message, "position">): Message | undefined {
    const { id, conversationId, senderUid, outgoing, text, state, sequence, sentAt, receivedAt, read } = message;
    const position = this.#lastPosition + 1;
    const result = this.#insert.run(position, id, conversationId, senderUid, outgoing ? 1 : 0, text, stateCode(state), sequence, sentAt, receivedAt, read ? 1 : 0);
    if (result.changes === 0) return undefined;
    this.#lastPosition = position;
    return { position, id, conversationId, senderUid, outgoing, text, state, sequence, sentAt, receivedAt, read };
  }

  get(senderUid: string, id: string): Message | undefined {
    const row = this.#byId.get(senderUid, id);
    return row && toMessage(row);
  }

  setState(senderUid: string, id: string, state: MessageState): void {
    this.#setState.run(stateCode(state), senderUid, id);
  }

  /**
   * Moves one of our messages forward to `state` (queued → sent → delivered → read), never
   * back and never out of failed, in one statement; returns its conversation when it moved.
   */
  advance(senderUid: string, id: string, state: "sent" | "delivered" | "read"): string | undefined {
    const code = stateCode(state);
    return this.#advance.get(code, senderUid, id, code)?.conversation_id;
  }

  /**
   * Moves forward to `state`, in one statement, those of `ids` that `senderUid` sent (in any
   * conversation); with `unlessOwed`, only those no outbox entry still waits on an ack for.
   * Returns the moved messages' ids and conversations, each once, in no particular order.
   */
  advanceAll(senderUid: string, ids: readonly string[], state: "sent" | "delivered", options: { unlessOwed: boolean }): { id: string; conversationId: string }[] {
    const code = stateCode(state);
    const statement = options.unlessOwed ? this.#advanceAllUnowed : this.#advanceAll;
    return statement.all(code, senderUid, JSON.stringify(ids), code);
  }

  /**
   * Moves forward to `state` those of `ids` that `senderUid` sent in `conversationId`, in one
   * statement; returns the ids that moved. Ids in other conversations are left alone.
   */
  advanceInConversation(senderUid: string, ids: string[], state: "delivered" | "read", conversationId: string): string[] {
    const code = stateCode(state);
    return this.#advanceInConversation.all(code, senderUid, JSON.stringify(ids), code, conversationId).map((r) => r.id);
  }

  /** Those of `ids` that `senderUid` sent outside `conversationId` and that are still before `state`. */
  behindElsewhere(senderUid: string, ids: string[], state: "delivered" | "read", conversationId: string): { id: string; conversationId: string }[] {
    return this.#behindElsewhere.all(senderUid, JSON.stringify(ids), stateCode(state), conversationId).map((r) => ({ id: r.id, conversationId: r.conversation_id }));
  }

  /** A page, oldest first, plus whether more exist in the paging direction. */
  page(conversationId: string, params: { before: number; after: number; limit: number }): { messages: Message[]; hasMore: boolean } {
    const { before, after, limit } = params;
    const take = limit + 1;
    let rows: MessageRow[];
    if (after > 0) {
      rows = this.#after.all(conversationId, after, before > 0 ? before : Number.MAX_SAFE_INTEGER, take);
      const hasMore = rows.length > limit;
      return { messages: rows.slice(0, limit).map(toMessage), hasMore };
    }
    rows = before > 0 ? this.#before.all(conversationId, before, take) : this.#newest.all(conversationId, take);
    const hasMore = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore };
  }

  /** Position of the newest unread message of a conversation, 0 when none is unread. */
  newestUnreadPosition(conversationId: string): number {
    return this.#newestUnread.get(conversationId)?.position ?? 0;
  }

  /** Up to `limit` unread messages with after < position <= upTo, oldest first. */
  unread(conversationId: string, after: number, upTo: number, limit: number): { position: number; id: string; senderUid: string }[] {
    return this.#unreadIds.all(conversationId, after, upTo, limit).map((r) => ({ position: r.position, id: r.id, senderUid: r.sender_uid }));
  }

  /**
   * Marks read the unread messages with after < position <= upTo; returns how many. The
   * conversation's unread count drops by that many in one statement (the caller's transaction
   * holds both, so the count always equals the rows).
   */
  markRead(conversationId: string, after: number, upTo: number): number {
    const marked = this.#markRead.run(conversationId, after, upTo).changes;
    if (marked > 0) this.#uncount.run(marked, conversationId);
    return marked;
  }

  unreadCounts(): { counts: UnreadCount[]; total: number } {
    const counts = this.#unreadCounts.all().map((r) => ({ conversationId: r.conversation_id, unread: r.unread }));
    return { counts, total: counts.reduce((sum, c) => sum + c.unread, 0) };
  }

  /** Deletes a conversation's messages; the positions they had are never handed out again. */
  deleteConversation(conversationId: string): void {
    if (this.#deleteConversation.run(conversationId).changes > 0) this.#raisePositionFloor.run(this.#lastPosition);
  }

  /** Reads the last position from the store again: after a rollback, which may have undone inserts. */
  reloadLastPosition(): void {
    this.#lastPosition = this.#readLastPosition.get()?.position ?? 0;
  }
}
