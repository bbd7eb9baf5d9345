import type { Db } from "./database.js";

/**
 * Idempotency keys of SendMessage: which of our messages a client's key produced, per
 * conversation. A key counts only while its message exists (callers look the message up), so
 * deleting a conversation forgets its keys without a trigger on every message delete.
 */
export class SendKeyRepo {
  #get;
  #put;

  constructor(db: Db) {
    this.#get = db.prepare<[string, string], { message_id: string }>("SELECT message_id FROM send_keys WHERE conversation_id = ? AND key = ?");
    this.#put = db.prepare("INSERT INTO send_keys (conversation_id, key, message_id) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET message_id = excluded.message_id");
  }

  messageId(conversationId: string, key: string): string | undefined {
    return this.#get.get(conversationId, key)?.message_id;
  }

  /** Inside the transaction that stores the message, so a crash keeps both or neither. */
  remember(conversationId: string, key: string, messageId: string): void {
    this.#put.run(conversationId, key, messageId);
  }
}
