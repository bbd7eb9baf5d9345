import { afterEach, describe, expect, it, vi } from "vitest";
import { InvalidArgumentError } from "@jarvis/core";
import { TestNodes, TEST_PASSWORD, link } from "../testing/test-nodes.js";
import type { StoredEvent } from "../model.js";
import type { SessionApp } from "./session-app.js";

// Real encrypted store and services; the peers are on the in-memory hub.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

const PAGE = { before: 0, after: 0, limit: 50 };
const texts = (app: SessionApp, conversation: string) => app.listMessages(conversation, PAGE).messages.map((m) => m.text);

/** The error a call fails with, whether it throws at once or rejects. */
async function rejection(call: () => Promise<unknown>): Promise<InvalidArgumentError> {
  const error = await Promise.resolve().then(call).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InvalidArgumentError)) throw new Error(`expected InvalidArgumentError, got ${String(error)}`);
  return error;
}

/** Every event in the log so far (a replay that stops at the newest cursor). */
async function loggedEvents(app: SessionApp): Promise<StoredEvent[]> {
  const latest = app.status().latestCursor;
  const stop = new AbortController();
  const events: StoredEvent[] = [];
  for await (const e of app.subscribe(0, false, stop.signal)) {
    events.push(e);
    if (e.cursor >= latest) break;
  }
  stop.abort();
  return events;
}

describe("SendMessage with an idempotency key", () => {
  it("stores and sends a repeated key once, returning the first message, also across a lock", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    const first = await alice.sendMessage("bob", "once", "key-1");
    // Concurrent repeats share one group commit; each still finds the first.
    const repeats = await Promise.all([alice.sendMessage("bob", "once", "key-1"), alice.sendMessage(bob.identity().identity.uid, "once", "key-1")]);
    expect(repeats.map((m) => m.id)).toEqual([first.id, first.id]);
    await alice.lock();
    await alice.unlock(TEST_PASSWORD);
    expect((await alice.sendMessage("bob", "once", "key-1")).id).toBe(first.id);

    expect(texts(alice, "bob")).toEqual(["once"]);
    await vi.waitFor(() => expect(texts(bob, "alice")).toEqual(["once"]), { timeout: 5_000, interval: 5 });
    // One more message without a key marks the end of what bob will get: nothing after "once".
    await alice.sendMessage("bob", "then this");
    await vi.waitFor(() => expect(texts(bob, "alice")).toEqual(["once", "then this"]), { timeout: 5_000, interval: 5 });
    // The durable event log announced the message once.
    expect((await loggedEvents(alice)).filter((e) => e.event.type === "message_created" && e.event.message.text === "once")).toHaveLength(1);
  });

  it("scopes keys to the conversation, and refuses a reused key with other text or a malformed key", async () => {
    const [alice, bob, carol] = (await nodes.people(["alice", "bob", "carol"])).map((n) => n.app) as [SessionApp, SessionApp, SessionApp];
    link(alice, bob);
    link(alice, carol);
    const group = alice.createGroup("trio", ["bob", "carol"]);

    const toBob = await alice.sendMessage("bob", "hello", "same");
    const toCarol = await alice.sendMessage("carol", "hello", "same");
    const toGroup = await alice.sendMessage(group.id, "hello", "same");
    expect(new Set([toBob.id, toCarol.id, toGroup.id]).size).toBe(3);
    expect((await alice.sendMessage(group.id, "hello", "same")).id).toBe(toGroup.id);

    expect((await rejection(() => alice.sendMessage("bob", "something else", "same"))).code).toBe("idempotency-key-reused");
    for (const bad of ["has space", "x".repeat(65), "é"]) expect((await rejection(() => alice.sendMessage("bob", "hi", bad))).code).toBe("bad-idempotency-key");
    expect((await alice.sendMessage("bob", "hi", "x".repeat(64))).text).toBe("hi");
    expect(texts(alice, "bob")).toEqual(["hello", "hi"]);
  });

  it("applies the key to SendMessages stream items", async () => {
    const [alice, bob] = (await nodes.people(["alice", "bob"])).map((n) => n.app) as [SessionApp, SessionApp];
    link(alice, bob);
    async function* requests() {
      yield { correlationId: "1", conversation: "bob", text: "streamed", idempotencyKey: "s-1" };
      yield { correlationId: "2", conversation: "bob", text: "streamed", idempotencyKey: "s-1" };
      yield { correlationId: "3", conversation: "bob", text: "streamed", idempotencyKey: "" };
    }
    const ids: string[] = [];
    for await (const outcome of alice.sendMessages(requests())) ids.push(outcome.message?.id ?? "error");
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(texts(alice, "bob")).toEqual(["streamed", "streamed"]);
  });
});
