import { afterEach, describe, expect, it } from "vitest";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { errorMappingInterceptor } from "@jarvis/rpc";
import { silentLogger } from "@jarvis/core";
import { TestNodes, encodeLinkCode, link, type TestNode } from "@jarvis/session/testing";
import { createSessionRoutes } from "../../services/session/routes.js";
import type { SessionClient } from "../../clients/tui/src/client.js";
import { Store } from "../../clients/tui/src/state/store.js";
import { Sync } from "../../clients/tui/src/state/sync.js";

// The TUI's store fed by a real session (real routes, app and encrypted store) over connect's
// in-memory transport. The snapshot is taken while the test changes the node underneath it.

let nodes = new TestNodes();
const stops: AbortController[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop.abort();
  await nodes.cleanup();
  nodes = new TestNodes();
});

function clientOf(node: TestNode): SessionClient {
  const transport = createRouterTransport(createSessionRoutes(node.app, silentLogger, () => {}), { router: { interceptors: [errorMappingInterceptor()] } });
  return createClient(SessionService, transport);
}

/** Runs Sync until stopped; `settled(check)` resolves once the store satisfies check. */
function startSync(client: SessionClient, store: Store) {
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  const poke = () => {
    for (const w of [...waiters]) {
      if (!w.check()) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const stop = new AbortController();
  stops.push(stop);
  const sync = new Sync(client, store, { unlock: () => Promise.reject(new Error("unexpected lock")), connection: poke, changed: poke });
  void sync.run(stop.signal);
  return (check: () => boolean) => new Promise<void>((resolve) => (check() ? resolve() : waiters.push({ check, resolve })));
}

describe("TUI sync at first connect", () => {
  it("misses nothing that happens while the snapshot is taken, and shows nothing twice", async () => {
    const [alice, bob, carol] = await nodes.people(["alice", "bob", "carol"]);
    link(alice!.app, bob!.app);
    await alice!.app.sendMessage("bob", "before the TUI started");
    const real = clientOf(alice!);
    let changedUnderneath = false;
    let changed = () => {};
    const changeDone = new Promise<void>((resolve) => (changed = resolve));
    // The contact list is read, then the node changes before the answer arrives: the snapshot
    // is stale, and only the event stream can tell the store about carol and the new message.
    // A subscription opened meanwhile reaches the server only after the change (a slow link).
    const client: SessionClient = {
      ...real,
      subscribe: async function* (...args: Parameters<SessionClient["subscribe"]>) {
        await changeDone;
        yield* real.subscribe(...args);
      },
      listContacts: async (...args: Parameters<SessionClient["listContacts"]>) => {
        const answer = await real.listContacts(...args);
        if (!changedUnderneath) {
          changedUnderneath = true;
          alice!.app.addContact({ linkCode: encodeLinkCode(carol!.app.identity().card) }, "");
          await alice!.app.sendMessage("bob", "during the snapshot");
          changed();
        }
        return answer;
      },
    };
    const store = new Store();
    const settled = startSync(client, store);
    const bobUid = bob!.app.identity().identity.uid;
    await settled(() => store.contacts.size === 2 && store.history(bobUid).messages.length > 0);
    expect(changedUnderneath).toBe(true);
    expect([...store.contacts.values()].map((c) => c.name).sort()).toEqual(["bob", "carol"]);

    await alice!.app.sendMessage("bob", "after, live");
    await settled(() => store.history(bobUid).messages.some((m) => m.text === "after, live"));
    // The event from before the snapshot is not replayed (the history page loads it when the
    // conversation opens); the racing one arrives exactly once.
    expect(store.history(bobUid).messages.map((m) => m.text)).toEqual(["during the snapshot", "after, live"]);
  });

  it("starts at the log's newest cursor, which GetStatus reports (0 while locked)", async () => {
    const [alice, bob] = await nodes.people(["alice", "bob"]);
    const client = clientOf(alice!);
    const before = (await client.getStatus({})).latestCursor;
    alice!.app.addContact({ linkCode: encodeLinkCode(bob!.app.identity().card) }, "");
    const after = (await client.getStatus({})).latestCursor;
    expect(after).toBeGreaterThan(before);
    await client.lock({});
    expect((await client.getStatus({})).latestCursor).toBe(0n);
  });
});
