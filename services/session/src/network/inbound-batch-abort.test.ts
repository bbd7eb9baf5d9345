import { afterEach, describe, expect, it, vi } from "vitest";
import { helloEnvelope } from "../messages/envelopes.js";
import { TestNodes, link } from "../testing/test-nodes.js";
import { PAGE, connected, keyOf, waitFor } from "../testing/trust-fixtures.js";
import type { SessionApp } from "../app/session-app.js";
import type { DomainEvent, Message, StoredEvent } from "../model.js";

// An inbound message is stored without a savepoint of its own; when its event cannot be
// written after the insert, the whole batch must roll back unacked, never leave the message
// stored without the event that shows it. Real encrypted stores; the failure is injected into
// bob's event log (as a full disk would fail the statement).
let nodes = new TestNodes();
afterEach(async () => {
  vi.restoreAllMocks();
  await nodes.cleanup();
  nodes = new TestNodes();
});

/** Every message_received event in bob's log, replayed from the start. */
async function receivedEvents(app: SessionApp): Promise<string[]> {
  const stop = new AbortController();
  const ids: string[] = [];
  const latest = app.requireUnlocked().store.events.latestCursor();
  for await (const stored of app.subscribe(0, false, stop.signal)) {
    if (stored.event.type === "message_received") ids.push(stored.event.message.id);
    if (stored.cursor >= latest) break;
  }
  stop.abort();
  return ids;
}

describe("an inbound batch whose write fails halfway", () => {
  it("rolls back as a whole and is not acked; the resent messages are stored and shown exactly once", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    await connected(alice, bob);
    await connected(bob, alice);

    const events = bob.requireUnlocked().store.events;
    const append = events.append.bind(events);
    let failures = 0;
    vi.spyOn(events, "append").mockImplementation((event: DomainEvent): StoredEvent => {
      if (event.type === "message_received" && failures === 0) {
        failures++;
        throw new Error("database or disk is full (injected)");
      }
      return append(event);
    });

    const sent = await Promise.all(["one", "two", "three"].map((text) => alice.sendMessage("bob", text)));
    await waitFor(() => expect(failures).toBe(1));
    // Whatever bob stored has its event; the message whose event failed was not kept.
    const stored = bob.listMessages("alice", PAGE).messages.map((m) => m.id);
    expect(stored).not.toContain(sent[0]?.id);
    expect((await receivedEvents(bob)).sort()).toEqual([...stored].sort());
    expect(alice.requireUnlocked().outgoing.ownMessage(sent[0]?.id ?? "")?.state).not.toBe("delivered");

    // bob greets again asking for a reply: alice resends what it still owes at once.
    await nodes.hub.inject(keyOf(bob), keyOf(alice), helloEnvelope("bob", "", true));
    await waitFor(() => expect(bob.listMessages("alice", PAGE).messages.map((m) => m.text).sort()).toEqual(["one", "three", "two"]));
    expect((await receivedEvents(bob)).sort()).toEqual(sent.map((m) => m.id).sort());
    for (const message of sent) await waitFor(() => expect(alice.requireUnlocked().outgoing.ownMessage(message.id)?.state).toBe("delivered"));
  });

  it("fails only the message whose insert fails: SQLite undoes that statement, the rest of the batch is stored and acked", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    await connected(alice, bob);
    await connected(bob, alice);

    // A real statement error from SQLite (NOT NULL), as a constraint a peer could trip would be.
    const repo = bob.requireUnlocked().store.messages;
    const insert = repo.insert.bind(repo);
    let refusedInserts = 0;
    vi.spyOn(repo, "insert").mockImplementation((message: Omit<Message, "position">) => {
      if (message.text !== "poison") return insert(message);
      refusedInserts++;
      return insert({ ...message, text: null as unknown as string });
    });

    const sent = await Promise.all(["one", "poison", "two"].map((text) => alice.sendMessage("bob", text)));
    const [one, poison, two] = sent as [Message, Message, Message];
    for (const message of [one, two]) await waitFor(() => expect(alice.requireUnlocked().outgoing.ownMessage(message.id)?.state).toBe("delivered"));
    expect(refusedInserts).toBeGreaterThan(0);
    expect(bob.listMessages("alice", PAGE).messages.map((m) => m.text).sort()).toEqual(["one", "two"]);
    expect((await receivedEvents(bob)).sort()).toEqual([one.id, two.id].sort());
    expect(alice.requireUnlocked().outgoing.ownMessage(poison.id)?.state).not.toBe("delivered");

    // Once the insert works again, the resend stores it once.
    vi.restoreAllMocks();
    await nodes.hub.inject(keyOf(bob), keyOf(alice), helloEnvelope("bob", "", true));
    await waitFor(() => expect(alice.requireUnlocked().outgoing.ownMessage(poison.id)?.state).toBe("delivered"));
    expect(bob.listMessages("alice", PAGE).messages.map((m) => m.text).sort()).toEqual(["one", "poison", "two"]);
    expect((await receivedEvents(bob)).sort()).toEqual(sent.map((m) => m.id).sort());
  });
});
