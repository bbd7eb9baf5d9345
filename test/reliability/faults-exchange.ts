import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { retry, systemClock, type BackoffPolicy } from "@jarvis/core";
import type { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { sessionClient } from "../running/processes.js";
import { split, wholeConversation } from "./faults-history.js";

type Session = Client<typeof SessionService>;

/** How fast a sender comes back to a node that is restarting: quick, then at most once a second. */
const RECOVERY: BackoffPolicy = { baseMs: 100, factor: 2, capMs: 1_000 };
/** ~5 minutes of retries at the cap: a node that is not back by then is a finding, not noise. */
const RECOVERY_ATTEMPTS = 300;
/** A call to a session that was killed mid-call fails at once; this only bounds a hung one. */
const CALL_TIMEOUT_MS = 30_000;

/**
 * A session client that survives the node's processes being killed under it: after a failure
 * the next call uses a fresh client, which reads run/ipc.json again and opens a new connection
 * to whichever session process now serves the profile.
 */
export class ResilientSession {
  #client: Session | undefined;

  constructor(readonly node: { home: string; name: string }) {}

  current(): Session {
    this.#client ??= sessionClient(this.node);
    return this.#client;
  }

  /** Forgets the connection: the process behind it may be gone. */
  renew(): void {
    this.#client = undefined;
  }

  /** Waits, with backoff, until the node answers and is unlocked again. */
  async untilServing(): Promise<void> {
    await retry(
      async () => {
        try {
          const status = await this.current().getStatus({}, { timeoutMs: CALL_TIMEOUT_MS });
          if (status.locked || !status.networkAvailable) throw new Error(`${this.node.name} is ${status.locked ? "locked" : "without its network service"}`);
        } catch (error) {
          this.renew();
          throw error;
        }
      },
      { policy: RECOVERY, clock: systemClock, maxAttempts: RECOVERY_ATTEMPTS },
    );
  }

  /** Runs `call` until it succeeds, waiting for the node to come back between tries. */
  async call<T>(call: (client: Session) => Promise<T>): Promise<T> {
    return retry(
      async () => {
        try {
          return await call(this.current());
        } catch (error) {
          this.renew();
          throw error;
        }
      },
      { policy: RECOVERY, clock: systemClock, maxAttempts: RECOVERY_ATTEMPTS },
    );
  }
}

/** What happened to the sends of one sender, for the report. */
export interface SendTally {
  sent: number;
  /** SendMessage failed (the node died under it) but the message was stored: not sent again. */
  storedDespiteError: number;
  /** SendMessage failed and the message was not stored: sent again, as a person would. */
  resent: number;
}

/**
 * Sends one message the way a careful client must when the node can die mid-call: there is no
 * idempotency key, so after a failed SendMessage the sender looks in its own history for the
 * (unique) text before sending again — resending blindly would duplicate a message the dying
 * session had already stored; giving up would lose one it had not.
 */
export async function sendExactlyOnce(session: ResilientSession, conversation: string, text: string, tally: SendTally): Promise<void> {
  for (;;) {
    try {
      await session.current().sendMessage({ conversation, text }, { timeoutMs: CALL_TIMEOUT_MS });
      tally.sent++;
      return;
    } catch (error) {
      if (error instanceof ConnectError && error.code === Code.InvalidArgument) throw error;
      session.renew();
      await session.untilServing();
      const mine = split(await session.call((client) => wholeConversation(client, conversation))).outgoing;
      if (mine.some((m) => m.text === text)) {
        tally.storedDespiteError++;
        tally.sent++;
        return;
      }
      tally.resent++;
    }
  }
}

/** The text of a sender's n-th message: unique, and carrying its place in the sender's order. */
export function messageText(sender: string, n: number): string {
  return `${sender} #${String(n).padStart(5, "0")}`;
}
