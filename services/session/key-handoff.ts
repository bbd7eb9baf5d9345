import type { Logger } from "@jarvis/core";
import { exitWhenSupervisorGone, openSupervisorPipe, type SupervisorPipe } from "@jarvis/rpc";

/**
 * The session's end of the supervisor pipe (see @jarvis/rpc supervisor-pipe):
 * - on every unlock it hands a copy of the derived store key to the supervisor, and on lock it
 *   tells it to forget the key, so that a crashed session can be restarted unlocked;
 * - when a restarted session is handed the key, it unlocks with it (no Argon2, no password);
 * - when the supervisor is gone (EOF), the session shuts down: no orphan keeps the store open.
 */
export interface SupervisorLink {
  /** What the application layer gives keys to (SessionOptions.keyCustody). */
  keyCustody: { hold(key: Buffer): void; wipe(): void };
  /** Where a handed-back key goes; set once the application exists. */
  onKey(unlock: (key: Buffer) => Promise<unknown>): void;
  /** Tells the supervisor where we listen (a real port when asked for port 0). */
  reportAddress(address: string): void;
}

export function linkToSupervisor(env: NodeJS.ProcessEnv, logger: Logger): SupervisorLink | undefined {
  let unlock: ((key: Buffer) => Promise<unknown>) | undefined;
  // A key can arrive before the application is wired up: keep it (and only it) until then.
  let early: Buffer | undefined;
  const useKey = (key: Buffer) => {
    if (!unlock) {
      early?.fill(0);
      early = key;
      return;
    }
    unlock(key)
      .then(() => logger.info({}, "unlocked with the key kept by the supervisor"))
      // A stale key (the password changed meanwhile) leaves the node locked, as without one.
      .catch((error: unknown) => logger.warn({ err: error }, "the supervisor's key did not unlock the store"))
      .finally(() => key.fill(0));
  };
  const pipe: SupervisorPipe | undefined = openSupervisorPipe(env, {
    onMessage: (message) => {
      if (message.type === "key") useKey(message.key);
    },
    onClosed: () => {
      logger.warn({}, "the supervisor is gone; shutting down");
      exitWhenSupervisorGone()();
    },
  });
  if (!pipe) return undefined;
  return {
    keyCustody: {
      hold: (key) => pipe.send({ type: "key", key: Buffer.from(key) }),
      wipe: () => pipe.send({ type: "wipe" }),
    },
    onKey(fn) {
      unlock = fn;
      if (early) {
        const key = early;
        early = undefined;
        useKey(key);
      }
    },
    reportAddress: (address) => pipe.send({ type: "address", address }),
  };
}
