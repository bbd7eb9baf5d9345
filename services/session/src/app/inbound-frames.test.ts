import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, newMessageId, silentLogger } from "@jarvis/core";
import { openTestStore } from "../testing/open-test-store.js";
import { ackEnvelope, helloEnvelope } from "../messages/envelopes.js";
import type { InboundFrame } from "../network/inbound-batcher.js";
import { ACK_FOLD_MS, InboundFrames } from "./inbound-frames.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const KEY = Buffer.alloc(32, 7);
const turns = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

/** InboundFrames over a real store; each handled batch writes a row, as storing frames does. */
function setup() {
  const { store, cleanup } = openTestStore();
  const clock = new FakeClock(Date.now());
  const handled: string[] = [];
  const frames = new InboundFrames(
    (batch: InboundFrame[]) => {
      for (const frame of batch) handled.push(frame.payload.equals(ack) ? "ack" : "other");
      store.settings.set(`batch-${handled.length}`, "stored");
    },
    { uow: store.uow, clock, log: silentLogger },
  );
  cleanups.push(() => {
    frames.close();
    cleanup();
  });
  return { store, clock, handled, frames };
}
const ack = ackEnvelope([newMessageId()]);

describe("InboundFrames", () => {
  it("a batch of acks costs no commit of its own: it rides the next write's commit, before that commit's other riders", async () => {
    const { store, handled, frames } = setup();
    const { uow } = store;
    const before = uow.commits;
    // What each saw of the ack batch when it ran: the write first, then the ack, then a rider
    // queued before the ack (a "sent" report the ack makes moot).
    const seen: Record<string, number> = {};
    uow.rideNextCommit(() => void (seen.sentReport = handled.length), () => undefined);
    frames.push(KEY, ack);
    await turns();
    expect(handled).toEqual([]);
    expect(uow.commits - before).toBe(0);
    await uow.write(() => void (seen.send = handled.length));
    expect(handled).toEqual(["ack"]);
    expect(seen).toEqual({ send: 0, sentReport: 1 });
    expect(uow.commits - before).toBe(1);
  });

  it("frames that store something are committed at once, without waiting for another commit", async () => {
    const { store, handled, frames } = setup();
    const before = store.uow.commits;
    frames.push(KEY, helloEnvelope("bob", "", false));
    await turns();
    expect(handled).toEqual(["other"]);
    expect(store.uow.commits - before).toBe(1);
  });

  it("a lone batch of acks gets a commit of its own once ACK_FOLD_MS have passed on the clock", async () => {
    const { store, clock, handled, frames } = setup();
    const before = store.uow.commits;
    frames.push(KEY, ack);
    await turns();
    clock.advance(ACK_FOLD_MS - 1);
    await turns();
    expect(handled).toEqual([]);
    clock.advance(1);
    await turns();
    expect(handled).toEqual(["ack"]);
    expect(store.uow.commits - before).toBe(1);
    expect(store.settings.get("batch-1")).toBe("stored");
  });
});
