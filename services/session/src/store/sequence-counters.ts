import type { Db } from "./database.js";

/** Searches messages_by_conversation from the newest row back to our newest message there. */
export const NEWEST_OWN_SEQUENCE = "SELECT sequence FROM messages WHERE conversation_id = ? AND outgoing = 1 ORDER BY position DESC LIMIT 1";

/**
 * The per-conversation sequence numbers of our own messages (direct and group), kept in memory.
 * They used to be a column of the contact's or group's row, UPDATEd for every message: one
 * more page encrypted and written to the WAL by every lone message's commit. The messages rows
 * record every number handed out, so a conversation's counter is loaded the first time it is
 * asked for — our newest message there, or the row's next_sequence column (the counter as
 * earlier versions kept it), whichever is further — and then counts in memory.
 *
 * A rollback can undo a message that took a number: the store's unit of work calls forget()
 * on every rolled-back (save)point, and the next number is loaded again from what the store
 * then holds, so a rolled-back message leaves neither a gap nor a duplicate.
 */
export class SequenceCounters {
  #next = new Map<string, number>();
  #newestOwn;

  constructor(db: Db) {
    this.#newestOwn = db.prepare<[string], { sequence: number }>(NEWEST_OWN_SEQUENCE);
  }

  /** The next number in this conversation; `stored` reads the row's next_sequence (1 if none). */
  take(conversationId: string, stored: () => number): number {
    const next = this.#next.get(conversationId) ?? Math.max(stored(), (this.#newestOwn.get(conversationId)?.sequence ?? 0) + 1);
    this.#next.set(conversationId, next + 1);
    return next;
  }

  /** Everything counted since the last load may have been undone: load again on next use. */
  forget(): void {
    this.#next.clear();
  }

  /** The conversation's row is gone (a deleted group or contact): a new one starts from its own column. */
  forgetConversation(conversationId: string): void {
    this.#next.delete(conversationId);
  }
}
