import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { openTestStore } from "../testing/open-test-store.js";
import { PresenceTracker } from "./presence-tracker.js";
import type { StoredEvent } from "../model.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const SETTLE_MS = 1_000;
const uidOf = (i: number) => i.toString(16).padStart(2, "0").repeat(16);

function setup(contacts: number) {
  const clock = new FakeClock();
  const { store, cleanup } = openTestStore(() => clock.now());
  cleanups.push(cleanup);
  store.uow.tx(() => {
    for (let i = 1; i <= contacts; i++) {
      store.contacts.insert({ uid: uidOf(i), publicKey: Buffer.alloc(32, i), name: `c${i}`, alias: "", addresses: [], addedAt: 0 });
    }
  });
  let reachable = true;
  const presence = new PresenceTracker({
    clock,
    uow: store.uow,
    contacts: store.contacts,
    groups: store.groups,
    ownUid: "ff".repeat(16),
    reachable: () => reachable,
    settleMs: SETTLE_MS,
  });
  cleanups.unshift(() => presence.close());
  /** Every event stored so far: a replay that stops at the latest cursor. */
  const stored = async () => {
    const events: StoredEvent[] = [];
    const latest = store.events.latestCursor();
    if (latest === 0) return events;
    for await (const e of store.events.subscribe(0, new AbortController().signal)) {
      events.push(e);
      if (e.cursor >= latest) break;
    }
    return events;
  };
  return { clock, presence, stored, setReachable: (value: boolean) => (reachable = value) };
}

describe("PresenceTracker", () => {
  it("stores nothing for a contact that flaps within the settle window", async () => {
    const { clock, presence, stored } = setup(1);
    presence.settle(); // the starting point: red
    expect((await stored()).map((e) => e.event)).toEqual([{ type: "presence_changed", uid: uidOf(1), presence: "red" }]);
    for (let i = 0; i < 2_649; i++) {
      presence.peerUp(uidOf(1));
      expect(presence.presenceOf(uidOf(1))).toBe("green"); // queries see the live state
      presence.peerDown(uidOf(1));
      clock.advance(SETTLE_MS / 10);
    }
    // Each window settles to red again: no net change, no event.
    clock.advance(SETTLE_MS);
    expect(await stored()).toHaveLength(1);
  });

  it("stores one event per net change once it has settled", async () => {
    const { clock, presence, stored, setReachable } = setup(2);
    presence.settle();
    presence.peerUp(uidOf(1));
    presence.peerDown(uidOf(1));
    presence.peerUp(uidOf(1));
    presence.peerUp(uidOf(2));
    clock.advance(SETTLE_MS - 1);
    expect(await stored()).toHaveLength(2);
    clock.advance(1);
    const events = (await stored()).slice(2).map((e) => e.event);
    expect(events).toEqual([
      { type: "presence_changed", uid: uidOf(1), presence: "green" },
      { type: "presence_changed", uid: uidOf(2), presence: "green" },
    ]);
    setReachable(false);
    presence.changed();
    clock.advance(SETTLE_MS);
    expect((await stored()).slice(4).map((e) => e.event)).toEqual([
      { type: "presence_changed", uid: uidOf(1), presence: "grey" },
      { type: "presence_changed", uid: uidOf(2), presence: "grey" },
    ]);
  });
});
