import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, newMessageId } from "@jarvis/core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { openTestStore, recordEvents } from "../testing/open-test-store.js";
import { openDatabase } from "../store/database.js";
import { MESSAGE_HOT_QUERIES } from "./message-repo.js";
import { create } from "@bufbuild/protobuf";
import { ReceiptSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { Outgoing } from "./outgoing.js";
import { Conversations } from "./conversations.js";
import type { Acks } from "./acks.js";
import type { Contact, DropCounters, MessageState } from "../model.js";

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
  const { events: announced, stop } = recordEvents(store);
  cleanups.push(stop);
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

describe("Conversations.receiveReceipt", () => {
  const GROUP = "g" + "1".repeat(31);
  const reader = { uid: PEER, groupOnly: false } as Contact;

  function withConversations() {
    const env = setup();
    const { store, outgoing } = env;
    const acked: string[] = [];
    const acks = { queue: (_contact: Contact, id: string) => acked.push(id) } as unknown as Acks;
    const conversations = new Conversations({ clock: new FakeClock(), uow: store.uow, messages: store.messages, contacts: store.contacts, outgoing, acks, drops: {} as DropCounters });
    const sent = (conversationId: string) => store.uow.tx(() => outgoing.storeMessage(newMessageId(), conversationId, 1, "hi", "delivered")).id;
    const receipt = (ids: string[], members: string[] = [PEER]) =>
      conversations.receiveReceipt(reader, create(ReceiptSchema, { receiptId: newMessageId(), messageIds: ids }), (groupId, uid) => groupId === GROUP && members.includes(uid));
    return { ...env, acked, sent, receipt };
  }

  it("marks read our direct and group messages the reader may read, each announced once, and nothing else", async () => {
    const { store, stateOf, moves, acked, sent, receipt } = withConversations();
    const direct = [sent(PEER), sent(PEER)];
    const inGroup = sent(GROUP);
    const toSomeoneElse = sent("c".repeat(52));
    // The reader's own message, with an id it could name.
    const theirs = store.uow.tx(() =>
      store.messages.insert({ id: newMessageId(), conversationId: PEER, senderUid: PEER, outgoing: false, text: "yo", state: "received", sequence: 1, sentAt: 1, receivedAt: 1, read: false }),
    )?.id as string;
    receipt([...direct, inGroup, toSomeoneElse, theirs, "not an id", direct[0] as string]);
    expect(direct.map((id) => stateOf(id))).toEqual(["read", "read"]);
    expect(stateOf(inGroup)).toBe("read");
    expect(stateOf(toSomeoneElse)).toBe("delivered");
    expect(stateOf(theirs, PEER)).toBe("received");
    expect(acked).toHaveLength(1);
    // The same receipt again changes and announces nothing, and is acked again.
    receipt([...direct, inGroup]);
    expect(acked).toHaveLength(2);
    await settle();
    expect(moves().sort()).toEqual([...direct, inGroup].map((id) => `${id.slice(0, 4)}:read`).sort());
  });

  it("leaves a group message alone when the reader is not a member", async () => {
    const { stateOf, moves, sent, receipt } = withConversations();
    const inGroup = sent(GROUP);
    receipt([inGroup], []);
    expect(stateOf(inGroup)).toBe("delivered");
    await settle();
    expect(moves()).toEqual([]);
  });
});

describe("a receipt's, an ack's and a written report's ids are looked up by (sender, id)", () => {
  it.each(["advanceAll", "advanceAllUnowed", "advanceInConversation", "behindElsewhere"] as const)("%s searches the (sender_uid, id) index, not the whole conversation", (name) => {
    const dir = mkdtempSync(join(tmpdir(), "jv-plan-"));
    const db = openDatabase(join(dir, "store.db"), randomBytes(32), { create: true });
    try {
      const sql = MESSAGE_HOT_QUERIES[name];
      const steps = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...(sql.match(/\?/g) ?? []).map(() => "x"))
        .map((row) => (row as { detail: string }).detail);
      expect(steps.join("\n")).toMatch(/SEARCH messages USING INDEX \S+ \(sender_uid=\? AND id=\?\)/);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
