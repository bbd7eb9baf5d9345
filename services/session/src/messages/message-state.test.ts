import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, newMessageId } from "@jarvis/core";
import { openTestStore } from "../testing/open-test-store.js";
import { Outgoing } from "./outgoing.js";
import type { MessageState, StoredEvent } from "../model.js";

// Outgoing.advance moves a message's state with one UPDATE…RETURNING on the real encrypted
// store: forward only, never out of failed, never on someone else's message, and it announces
// exactly the moves it made.
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const OWN = "a".repeat(52);
const PEER = "b".repeat(52);

function setup() {
  const clock = new FakeClock();
  const opened = openTestStore(() => clock.now());
  cleanups.push(opened.cleanup);
  const { store } = opened;
  const outgoing = new Outgoing({ clock, uow: store.uow, messages: store.messages, outbox: store.outbox, ownUid: OWN, handOff: () => undefined });
  const announced: StoredEvent[] = [];
  const abort = new AbortController();
  cleanups.push(() => abort.abort());
  void (async () => {
    for await (const e of store.events.subscribe(0, abort.signal)) announced.push(e);
  })().catch(() => undefined);
  const ours = (state: MessageState) => store.uow.tx(() => outgoing.storeMessage(newMessageId(), PEER, 1, "hi", state));
  const stateOf = (id: string, sender = OWN) => store.messages.get(sender, id)?.state;
  const moves = () => announced.flatMap((e) => (e.event.type === "message_state_changed" ? [`${e.event.messageId.slice(0, 4)}:${e.event.state}`] : []));
  return { store, outgoing, ours, stateOf, moves };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Outgoing.advance", () => {
  it("moves forward only, skipping states but never going back, and announces each move once", async () => {
    const { store, outgoing, ours, stateOf, moves } = setup();
    const m = ours("queued");
    const advance = (state: "sent" | "delivered" | "read") => store.uow.tx(() => outgoing.advance(m.id, state));
    advance("sent");
    advance("sent");
    expect(stateOf(m.id)).toBe("sent");
    advance("read");
    advance("delivered");
    expect(stateOf(m.id)).toBe("read");
    await settle();
    const tag = m.id.slice(0, 4);
    expect(moves()).toEqual([`${tag}:sent`, `${tag}:read`]);
  });

  it("leaves a failed message, a received message and an unknown id untouched", async () => {
    const { store, outgoing, ours, stateOf, moves } = setup();
    const failed = ours("failed");
    const received = store.uow.tx(() =>
      store.messages.insert({ id: newMessageId(), conversationId: PEER, senderUid: PEER, outgoing: false, text: "yo", state: "received", sequence: 1, sentAt: 1, receivedAt: 1, read: false }),
    );
    store.uow.tx(() => {
      outgoing.advance(failed.id, "delivered");
      outgoing.advance(received?.id ?? "", "delivered");
      outgoing.advance(newMessageId(), "sent");
    });
    expect(stateOf(failed.id)).toBe("failed");
    expect(stateOf(received?.id ?? "", PEER)).toBe("received");
    await settle();
    expect(moves()).toEqual([]);
  });
});
