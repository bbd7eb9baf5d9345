import type { Clock, Logger, TimerHandle } from "@jarvis/core";
import type { UnitOfWork } from "../store/unit-of-work.js";
import { InboundBatcher, type InboundFrame } from "../network/inbound-batcher.js";

/**
 * How long a batch of Ack frames may wait to ride along with a commit that happens anyway
 * (usually the next send's) before it is committed on its own. At a steady rate of sends the
 * ack of one message rides the next message's commit — one commit per message instead of two
 * — and on a quiet node "delivered" shows at most this much later.
 */
export const ACK_FOLD_MS = 5;

/**
 * The first byte of an Envelope whose body is an Ack (field 5, length-delimited): what every
 * node writes for an ack. A frame that starts otherwise is handled as any other frame, so a
 * misjudged one costs only the wait, never its handling.
 */
const ACK_ENVELOPE_TAG = (5 << 3) | 2;

const isAck = (payload: Buffer): boolean => payload[0] === ACK_ENVELOPE_TAG;

/**
 * Inbound frames into the store, batched per turn. Frames that store something (messages,
 * receipts, group updates) go into the next group commit at once: their ack, and the event a
 * subscriber waits for, come only after it. Acks only settle our outbox, so they ride the next
 * commit something else brings, after its writes and before its other riders (a "sent" report
 * they make moot), or get one of their own after ACK_FOLD_MS.
 */
export class InboundFrames {
  #now: InboundBatcher;
  #acks: InboundBatcher;
  #foldTimer: TimerHandle | undefined;

  constructor(handle: (frames: InboundFrame[]) => void, deps: { uow: UnitOfWork; clock: Clock; log: Logger }) {
    const { uow, clock, log } = deps;
    // A shared commit that fails (e.g. the disk is full) stored nothing of the batch, so nothing was acked.
    const onError = (err: unknown) => log.error({ err }, "storing inbound frames failed; they were not acked");
    this.#now = new InboundBatcher(handle, { schedule: (run) => uow.inNextCommit(run, onError) });
    const rideNextCommit = (run: () => void) => {
      const ride = () => {
        this.#foldTimer?.cancel();
        this.#foldTimer = undefined;
        run();
      };
      uow.rideNextCommit(ride, onError, true);
      this.#foldTimer ??= clock.setTimeout(() => {
        this.#foldTimer = undefined;
        uow.commitRidersNow();
      }, ACK_FOLD_MS);
    };
    this.#acks = new InboundBatcher(handle, { schedule: rideNextCommit });
  }

  push(key: Buffer, payload: Buffer): Promise<void> | undefined {
    return (isAck(payload) ? this.#acks : this.#now).push(key, payload);
  }

  close(): void {
    this.#foldTimer?.cancel();
    this.#foldTimer = undefined;
    this.#now.close();
    this.#acks.close();
  }
}
