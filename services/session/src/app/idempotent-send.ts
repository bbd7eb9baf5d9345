import { InvalidArgumentError } from "@jarvis/core";
import type { Message } from "../model.js";
import type { UnlockedSession } from "./unlocked-session.js";

/** At most this many characters, printable ASCII only (a UUID or a counter fits easily). */
export const MAX_IDEMPOTENCY_KEY = 64;
const KEY_PATTERN = /^[\x21-\x7e]+$/;

export function checkIdempotencyKey(key: string): void {
  if (key.length > MAX_IDEMPOTENCY_KEY || !KEY_PATTERN.test(key)) {
    throw new InvalidArgumentError(`idempotency key must be 1 to ${MAX_IDEMPOTENCY_KEY} printable ASCII characters without spaces`, "bad-idempotency-key");
  }
}

/**
 * Stores a message once per (conversation, key): the lookup, the store and the key are one
 * transaction, so a client that resends after a lost answer or a daemon crash gets the
 * message it made the first time, and its peer receives it once. The same key with another
 * text is a client bug, refused rather than silently answered with the wrong message.
 */
export function sendOnce(u: UnlockedSession, conversationId: string, key: string, text: string, store: () => Message): Promise<Message> {
  checkIdempotencyKey(key);
  const { uow, sendKeys } = u.store;
  return uow.write(() => {
    const priorId = sendKeys.messageId(conversationId, key);
    const prior = priorId === undefined ? undefined : u.outgoing.ownMessage(priorId);
    if (prior) {
      if (prior.text !== text) throw new InvalidArgumentError("this idempotency key was used for a different message in this conversation", "idempotency-key-reused");
      return prior;
    }
    const message = store();
    sendKeys.remember(conversationId, key, message.id);
    return message;
  });
}
