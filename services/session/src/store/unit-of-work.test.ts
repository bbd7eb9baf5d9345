import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@jarvis/core";
import { openTestStore } from "../testing/open-test-store.js";
import type { StoredEvent } from "../model.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function fresh() {
  const opened = openTestStore();
  cleanups.push(opened.cleanup);
  return opened.store;
}

describe("UnitOfWork", () => {
  it("group commit: one failing write does not fail the others in its batch", async () => {
    const store = fresh();
    const { uow, settings } = store;
    const live: StoredEvent[] = [];
    const abort = new AbortController();
    const reading = (async () => {
      for await (const e of store.events.subscribe(0, abort.signal)) {
        live.push(e);
        if (live.length === 2) break;
      }
    })();
    const handedOff: string[] = [];
    const write = (key: string, fail: boolean) =>
      uow.write(() => {
        settings.set(key, "yes");
        uow.emit({ type: "contact_removed", uid: key });
        uow.afterCommit(() => handedOff.push(key));
        if (fail) throw new InvalidArgumentError(`${key} is refused`);
        return key;
      });
    // All three are requested in the same turn, so they share one transaction.
    const results = await Promise.allSettled([write("first", false), write("second", true), write("third", false)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidArgumentError);
    expect([settings.get("first"), settings.get("second"), settings.get("third")]).toEqual(["yes", undefined, "yes"]);
    await reading;
    expect(live.map((e) => (e.event.type === "contact_removed" ? e.event.uid : ""))).toEqual(["first", "third"]);
    expect(handedOff).toEqual(["first", "third"]);
  });

  it("publishes nothing and hands nothing over when the outer transaction rolls back", () => {
    const store = fresh();
    const { uow, settings } = store;
    const handedOff: string[] = [];
    expect(() =>
      uow.tx(() => {
        settings.set("k", "v");
        uow.emit({ type: "contact_removed", uid: "x" });
        uow.afterCommit(() => handedOff.push("x"));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(settings.get("k")).toBeUndefined();
    expect(store.events.latestCursor()).toBe(0);
    expect(handedOff).toEqual([]);
  });
});
