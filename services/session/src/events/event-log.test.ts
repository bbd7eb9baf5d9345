import { afterEach, describe, expect, it } from "vitest";
import { ResourceExhaustedError } from "@jarvis/core";
import { openTestStore } from "../testing/open-test-store.js";
import { MAX_SUBSCRIBER_BACKLOG } from "../constants.js";
import type { StoredEvent } from "../model.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe("EventLog subscribers", () => {
  it("cuts off a subscriber that stops reading with a clear error; a reading one is unaffected", async () => {
    const { store, cleanup } = openTestStore();
    cleanups.push(cleanup);
    const { uow, events } = store;
    const total = MAX_SUBSCRIBER_BACKLOG + 500;
    const stalled = events.subscribe(0, new AbortController().signal);
    // Attach the stalled subscriber: its first next() replays (nothing) and goes live.
    const firstOfStalled = stalled.next();
    let read = 0;
    const reader = (async () => {
      for await (const e of events.subscribe(0, new AbortController().signal)) {
        read = e.cursor;
        if (read === total) break;
      }
    })();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.subscriberCount).toBe(2);
    for (let i = 0; i < total; i += 100) {
      uow.tx(() => {
        for (let j = 0; j < 100; j++) uow.emit({ type: "contact_removed", uid: `u${i + j}` });
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await reader;
    expect(read).toBe(total);
    // The stalled one got the first event, then overflowed: it was detached (its backlog freed) and fails.
    expect(((await firstOfStalled).value as StoredEvent).cursor).toBe(1);
    expect(events.subscriberCount).toBe(0);
    await expect(stalled.next()).rejects.toBeInstanceOf(ResourceExhaustedError);
  });
});
