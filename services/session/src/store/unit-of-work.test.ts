import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, LockedError } from "@jarvis/core";
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

  it("client writes and internal work of one turn share one commit", async () => {
    const store = fresh();
    const { uow, settings } = store;
    const before = uow.commits;
    const internal: string[] = [];
    const writes = [uow.write(() => settings.set("a", "1")), uow.write(() => settings.set("b", "2"))];
    uow.inNextCommit(() => internal.push(settings.get("a") ?? "unset"), () => internal.push("failed"));
    uow.inNextCommit(() => {
      settings.set("c", "3");
      throw new Error("this part rolls back alone");
    }, () => internal.push("failed"));
    expect(uow.queuedWrites).toBe(4);
    await Promise.all(writes);
    expect(uow.commits - before).toBe(1);
    expect(internal).toEqual(["1", "failed"]);
    expect([settings.get("a"), settings.get("b"), settings.get("c")]).toEqual(["1", "2", undefined]);
  });

  it("waits a few turns while writes keep arriving, then commits them together; a lone write does not wait", async () => {
    const store = fresh();
    const { uow, settings } = store;
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    let before = uow.commits;
    const lone = uow.write(() => settings.set("lone", "1"));
    await turn();
    expect(uow.commits - before).toBe(1);
    await lone;

    // A busy source: two new writes every turn for 20 turns (40 writes).
    before = uow.commits;
    const all: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      all.push(uow.write(() => settings.set(`a${i}`, "v")), uow.write(() => settings.set(`b${i}`, "v")));
      await turn();
    }
    await Promise.all(all);
    const commits = uow.commits - before;
    // Each commit waits at most MAX_COMMIT_DEFERRALS (4) more turns: 20 busy turns take 4 to 10
    // commits, not 20 (one per turn) and not 1 (waiting without bound).
    expect(commits).toBeGreaterThanOrEqual(4);
    expect(commits).toBeLessThanOrEqual(10);
  });

  it("a rider waits for the next commit something else brings, runs last in it, and survives that write's failure", async () => {
    const store = fresh();
    const { uow, settings } = store;
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    const order: string[] = [];
    const before = uow.commits;
    uow.rideNextCommit(() => {
      order.push("rider");
      settings.set("rider", "1");
    }, () => order.push("rider failed"));
    for (let i = 0; i < 3; i++) await turn();
    expect(uow.commits - before).toBe(0); // no commit of its own
    expect(uow.queuedWrites).toBe(0);
    const host = uow.write(() => {
      order.push("host");
      throw new InvalidArgumentError("host is refused");
    });
    await expect(host).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(uow.commits - before).toBe(1);
    expect(order).toEqual(["host", "rider"]);
    expect(settings.get("rider")).toBe("1");
  });

  it("an early rider runs before the riders that came before it, whether a write or commitRidersNow brings the commit", async () => {
    const store = fresh();
    const { uow } = store;
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    };
    const order: string[] = [];
    const ride = (name: string, early: boolean) => uow.rideNextCommit(() => void order.push(name), () => order.push(`${name} failed`), early);
    ride("late 1", false);
    ride("early 1", true);
    ride("late 2", false);
    ride("early 2", true);
    await uow.write(() => void order.push("host"));
    expect(order).toEqual(["host", "early 1", "early 2", "late 1", "late 2"]);

    order.length = 0;
    const before = uow.commits;
    ride("late", false);
    ride("early", true);
    uow.commitRidersNow();
    await turns(3);
    expect(uow.commits - before).toBe(1);
    expect(order).toEqual(["early", "late"]);
  });

  it("commitRidersNow gives waiting riders a commit of their own; a closed store drops them", async () => {
    const store = fresh();
    const { uow, settings } = store;
    const before = uow.commits;
    uow.rideNextCommit(() => settings.set("a", "1"), () => undefined);
    uow.rideNextCommit(() => settings.set("b", "2"), () => undefined);
    uow.commitRidersNow();
    expect(uow.queuedWrites).toBe(2);
    // (Two queued at once count as a growing batch: the commit waits one turn, see above.)
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(uow.commits - before).toBe(1);
    expect([settings.get("a"), settings.get("b")]).toEqual(["1", "2"]);

    const { store: closing, cleanup } = openTestStore();
    let ran = false;
    closing.uow.rideNextCommit(() => (ran = true), () => undefined);
    cleanup();
    closing.uow.commitRidersNow();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(ran).toBe(false);
  });

  it("a write still queued when the store closes fails with LockedError; later ones too", async () => {
    const { store, cleanup } = openTestStore();
    const queued = store.uow.write(() => store.settings.set("k", "v"));
    cleanup();
    await expect(queued).rejects.toBeInstanceOf(LockedError);
    await expect(store.uow.write(() => 1)).rejects.toBeInstanceOf(LockedError);
  });
  it("a lone write is its own transaction: its failure leaves nothing, and a failure it catches inside rolls back alone", async () => {
    const store = fresh();
    const { uow, settings } = store;
    const handedOff: string[] = [];
    const failing = uow.write(() => {
      settings.set("lone", "yes");
      uow.emit({ type: "contact_removed", uid: "lone" });
      uow.afterCommit(() => handedOff.push("lone"));
      throw new InvalidArgumentError("lone is refused");
    });
    await expect(failing).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(settings.get("lone")).toBeUndefined();
    expect(handedOff).toEqual([]);
    expect(store.events.latestCursor()).toBe(0);

    // Alone in its commit again: an inner transaction that fails and is caught undoes only itself.
    const value = await uow.write(() => {
      settings.set("outer", "kept");
      try {
        uow.tx(() => {
          settings.set("inner", "undone");
          throw new InvalidArgumentError("inner is refused");
        });
      } catch {
        // the caller chose to go on without it
      }
      uow.afterCommit(() => handedOff.push("outer"));
      return "done";
    });
    expect(value).toBe("done");
    expect([settings.get("outer"), settings.get("inner")]).toEqual(["kept", undefined]);
    expect(handedOff).toEqual(["outer"]);
  });

  it("refuses a transaction whose function returns a promise, and keeps none of it", () => {
    const { uow, settings } = fresh();
    expect(() =>
      uow.tx(() => {
        settings.set("async", "yes");
        return Promise.resolve();
      }),
    ).toThrow(TypeError);
    expect(settings.get("async")).toBeUndefined();
    // The connection is usable again: no transaction was left open.
    uow.tx(() => settings.set("after", "yes"));
    expect(settings.get("after")).toBe("yes");
  });

  it("nests savepoints to any depth; each failure undoes only its own level", () => {
    const { uow, settings } = fresh();
    uow.tx(() => {
      settings.set("depth1", "kept");
      uow.tx(() => {
        settings.set("depth2", "kept");
        expect(() =>
          uow.tx(() => {
            settings.set("depth3", "undone");
            throw new InvalidArgumentError("depth 3 is refused");
          }),
        ).toThrow(InvalidArgumentError);
        settings.set("depth2b", "kept");
      });
    });
    expect(["depth1", "depth2", "depth3", "depth2b"].map((k) => settings.get(k))).toEqual(["kept", "kept", undefined, "kept"]);
  });
});
