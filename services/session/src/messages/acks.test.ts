import { afterEach, describe, expect, it, vi } from "vitest";
import { create } from "@bufbuild/protobuf";
import { FakeClock, newMessageId, silentLogger } from "@jarvis/core";
import { AckSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import type { Db } from "../store/database.js";
import { openTestStore, recordEvents } from "../testing/open-test-store.js";
import type { PeerNetwork } from "../peer-network.js";
import type { Contact, MessageState } from "../model.js";
import { Outgoing } from "./outgoing.js";
import { OutboxDelivery } from "./outbox-delivery.js";
import { ACK_SEND_FOLD_MS, Acks } from "./acks.js";
import { EnvelopeSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { fromBinary } from "@bufbuild/protobuf";
import { MAX_IDS_PER_ACK } from "../constants.js";

// Acks.receive on the real encrypted store: a whole Ack frame is applied with a fixed number
// of statements, and still only what the acking peer owed leaves the outbox, a message is
// delivered only when nobody owes it anymore, and the owed counts stay exact.
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const OWN = "a".repeat(52);
const BOB = "b".repeat(52);
const CAROL = "c".repeat(52);
const GROUP = "g" + "1".repeat(31);
const contact = (uid: string) => ({ uid, publicKey: Buffer.alloc(32) }) as Contact;

function setup() {
  const clock = new FakeClock();
  // A real encrypted store, and its handle so the test can look behind the repos' back.
  const { store, db, cleanup } = openTestStore(() => clock.now());
  cleanups.push(cleanup);
  const outgoing = new Outgoing({ clock, uow: store.uow, messages: store.messages, outbox: store.outbox, ownUid: OWN, handOff: () => undefined });
  // No peer is connected, so nothing is ever sent on it: the network is outside this test.
  const network = {} as PeerNetwork;
  const delivery = new OutboxDelivery({ clock, log: silentLogger, network, uow: store.uow, outbox: store.outbox, outgoing });
  cleanups.push(() => delivery.stop());
  const acks = new Acks({ clock, network, uow: store.uow, outbox: store.outbox, outgoing, delivery });
  const { events: announced, stop } = recordEvents(store);
  cleanups.push(stop);

  /** One of our messages, queued for each recipient (a group message when more than one). */
  const send = (recipients: string[], conversationId = recipients.length > 1 ? GROUP : (recipients[0] as string)) =>
    store.uow.tx(() => {
      const id = newMessageId();
      outgoing.storeMessage(id, conversationId, 1, "hi", "queued");
      outgoing.enqueue(recipients, { ackId: id, messageId: id, payload: Buffer.from(id), needsAck: true });
      return id;
    });
  /** A read receipt owed to `uid`: an entry without a message. */
  const receipt = (uid: string) =>
    store.uow.tx(() => {
      const id = newMessageId();
      outgoing.enqueue([uid], { ackId: id, messageId: "", payload: Buffer.from(id), needsAck: true });
      return id;
    });
  const ack = (uid: string, ids: string[]) => acks.receive(contact(uid), create(AckSchema, { messageIds: ids }));
  const stateOf = (id: string): MessageState | undefined => store.messages.get(OWN, id)?.state;
  /** What the store holds behind the repo's back: a recipient's entries, and its owed messages. */
  const rows = (uid: string) => (db.prepare("SELECT ack_id FROM outbox WHERE recipient_uid = ? ORDER BY seq").all(uid) as { ack_id: string }[]).map((r) => r.ack_id);
  const owedInStore = (uid: string) =>
    (db.prepare("SELECT count(*) AS n FROM outbox WHERE recipient_uid = ? AND needs_ack = 1 AND message_id != ''").get(uid) as { n: number }).n;
  const moves = () => announced.flatMap((e) => (e.event.type === "message_state_changed" ? [`${e.event.messageId}:${e.event.state}`] : []));
  return { db, store, acks, delivery, outgoing, send, receipt, ack, stateOf, rows, owedInStore, moves };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Counts the statements run on the outbox and messages tables while `fn` runs (better-sqlite3
 * has no counter of its own): every prepared statement shares one prototype.
 */
function countTableStatements(db: Db, fn: () => void): string[] {
  const proto = Object.getPrototypeOf(db.prepare("SELECT 1")) as Record<"run" | "get" | "all", (...args: unknown[]) => unknown>;
  const seen: string[] = [];
  const spies = (["run", "get", "all"] as const).map((method) => {
    const original = proto[method];
    return vi.spyOn(proto, method).mockImplementation(function (this: { source: string }, ...args: unknown[]) {
      if (/\b(outbox|messages)\b/.test(this.source)) seen.push(this.source);
      return original.apply(this, args);
    });
  });
  try {
    fn();
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  return seen;
}

describe("Acks.receive (one Ack frame, set-based, real encrypted store)", () => {
  it("applies an ack of many ids with two statements on the outbox and messages, announcing each delivery once in ack order", async () => {
    const env = setup();
    const ids = Array.from({ length: 300 }, () => env.send([BOB]));
    expect(env.store.outbox.pendingCount(BOB)).toBe(300);
    const order = [...ids].reverse(); // the peer's order, not the store's
    const statements = countTableStatements(env.db, () => env.ack(BOB, order));
    expect(statements).toHaveLength(2);
    expect(ids.every((id) => env.stateOf(id) === "delivered")).toBe(true);
    expect(env.rows(BOB)).toEqual([]);
    expect(env.store.outbox.pendingCount(BOB)).toBe(0);
    await settle();
    expect(env.moves()).toEqual(order.map((id) => `${id}:delivered`));
  });

  it("in a mixed ack, removes only what the acking peer owed, and delivers only what nobody owes anymore", async () => {
    const env = setup();
    const toBob = [env.send([BOB]), env.send([BOB])];
    const toCarol = env.send([CAROL]);
    const toGroup = env.send([BOB, CAROL]);
    const bobsReceipt = env.receipt(BOB);
    const keptForBob = env.send([BOB]);
    expect([env.store.outbox.pendingCount(BOB), env.store.outbox.pendingCount(CAROL)]).toEqual([4, 2]);
    const ackIds = [toBob[0], newMessageId(), toCarol, toGroup, bobsReceipt, toBob[1], toBob[0], toGroup, "not an id", ""] as string[];

    env.ack(BOB, ackIds);
    expect(toBob.map(env.stateOf)).toEqual(["delivered", "delivered"]);
    expect(env.stateOf(toCarol)).toBe("queued"); // bob cannot ack what carol owes
    expect(env.stateOf(toGroup)).toBe("queued"); // carol has not acked it yet
    expect(env.rows(BOB)).toEqual([keptForBob]); // the receipt left too
    expect(env.rows(CAROL)).toEqual([toCarol, toGroup]);
    expect([env.store.outbox.pendingCount(BOB), env.owedInStore(BOB)]).toEqual([1, 1]);
    expect([env.store.outbox.pendingCount(CAROL), env.owedInStore(CAROL)]).toEqual([2, 2]);

    env.ack(BOB, ackIds); // the same ack again changes nothing
    env.ack(CAROL, [toGroup]);
    expect(env.stateOf(toGroup)).toBe("delivered");
    expect(env.stateOf(toCarol)).toBe("queued");
    expect([env.store.outbox.pendingCount(CAROL), env.owedInStore(CAROL)]).toEqual([1, 1]);
    await settle();
    expect(env.moves()).toEqual([`${toBob[0]}:delivered`, `${toBob[1]}:delivered`, `${toGroup}:delivered`]);
  });

  it("never moves a message back, and tells the channel of progress only when something left the outbox", () => {
    const env = setup();
    const read = env.send([BOB]);
    env.store.uow.tx(() => env.outgoing.advance(read, "read"));
    const progressed = vi.spyOn(env.delivery, "ackProgress");
    env.ack(BOB, [newMessageId()]);
    expect(progressed).not.toHaveBeenCalled();
    env.ack(BOB, [read]);
    expect(env.stateOf(read)).toBe("read");
    expect(progressed).toHaveBeenCalledTimes(1);
  });

  it("takes at most MAX_IDS_PER_ACK ids of one frame", () => {
    const env = setup();
    const ids = Array.from({ length: 3 }, () => env.send([BOB]));
    const padding = Array.from({ length: MAX_IDS_PER_ACK - 1 }, () => newMessageId());
    env.ack(BOB, [ids[0] as string, ...padding, ids[1] as string, ids[2] as string]);
    expect(ids.map(env.stateOf)).toEqual(["delivered", "queued", "queued"]);
    expect(env.store.outbox.pendingCount(BOB)).toBe(2);
  });

  it("leaves everything as it was, owed counts included, when the transaction holding the ack rolls back", async () => {
    const env = setup();
    const ids = Array.from({ length: 50 }, () => env.send([BOB]));
    const toGroup = env.send([BOB, CAROL]);
    expect(env.store.outbox.pendingCount(BOB)).toBe(51); // read into memory before the ack moves it
    const other = env.send([CAROL]);
    const results = await Promise.allSettled([
      env.store.uow.write(() => {
        env.ack(BOB, [...ids, toGroup]);
        expect(env.store.outbox.pendingCount(BOB)).toBe(0); // inside: what this write did so far
        throw new Error("disk full");
      }),
      env.store.uow.write(() => env.ack(CAROL, [other])), // same group commit: this one commits
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(ids.every((id) => env.stateOf(id) === "queued")).toBe(true);
    expect(env.stateOf(other)).toBe("delivered");
    expect(env.rows(BOB)).toEqual([...ids, toGroup]);
    expect([env.store.outbox.pendingCount(BOB), env.owedInStore(BOB)]).toEqual([51, 51]);
    expect([env.store.outbox.pendingCount(CAROL), env.owedInStore(CAROL)]).toEqual([1, 1]);
    // And the same ack, again, applies in full.
    env.ack(BOB, [...ids, toGroup]);
    env.ack(CAROL, [toGroup]);
    expect([...ids, toGroup].every((id) => env.stateOf(id) === "delivered")).toBe(true);
    expect([env.store.outbox.pendingCount(BOB), env.owedInStore(BOB)]).toEqual([0, 0]);
    await settle();
    expect(env.moves().filter((m) => m.startsWith(ids[0] as string))).toEqual([`${ids[0]}:delivered`]);
  });
});

describe("Outgoing.markSent (the network's written reports, one statement per report)", () => {
  it("moves the queued ones to sent, once each, in the order given, and leaves later, failed and unknown ones alone", async () => {
    const env = setup();
    const queued = [env.send([BOB]), env.send([BOB]), env.send([BOB])];
    const delivered = env.send([BOB]);
    env.ack(BOB, [delivered]);
    const failed = env.send([BOB]);
    env.store.uow.tx(() => env.store.messages.setState(OWN, failed, "failed"));
    const order = [queued[2], delivered, failed, newMessageId(), queued[0], queued[2], queued[1]] as string[];
    const statements = countTableStatements(env.db, () => env.store.uow.tx(() => env.outgoing.markSent(order)));
    expect(statements).toHaveLength(1);
    expect(queued.map(env.stateOf)).toEqual(["sent", "sent", "sent"]);
    expect([env.stateOf(delivered), env.stateOf(failed)]).toEqual(["delivered", "failed"]);
    await settle();
    expect(env.moves()).toEqual([`${delivered}:delivered`, ...[queued[2], queued[0], queued[1]].map((id) => `${id}:sent`)]);
  });
});

describe("Acks.queue (our acks, folded per peer)", () => {
  function sending() {
    const clock = new FakeClock();
    const { store, cleanup } = openTestStore(() => clock.now());
    cleanups.push(cleanup);
    const frames: { to: string; ids: string[] }[] = [];
    const network = {
      send: async (key: Buffer, payload: Uint8Array) => {
        const envelope = fromBinary(EnvelopeSchema, payload);
        if (envelope.body.case === "ack") frames.push({ to: key.toString("hex").slice(0, 2), ids: envelope.body.value.messageIds });
      },
    } as unknown as PeerNetwork;
    const acks = new Acks({ clock, network, uow: store.uow } as unknown as ConstructorParameters<typeof Acks>[0]);
    cleanups.push(() => acks.stop());
    const peer = (byte: number) => ({ uid: String(byte).repeat(52), publicKey: Buffer.alloc(32, byte) }) as Contact;
    return { clock, store, frames, acks, peer };
  }

  it("sends the ids one peer gathered within the fold as one frame per peer, and none before", async () => {
    const { clock, store, frames, acks, peer } = sending();
    store.uow.tx(() => acks.queue(peer(0x11), "m1"));
    store.uow.tx(() => {
      acks.queue(peer(0x11), "m2");
      acks.queue(peer(0x22), "g1");
    });
    await settle();
    clock.advance(ACK_SEND_FOLD_MS - 1);
    await settle();
    expect(frames).toEqual([]);
    clock.advance(1);
    await settle();
    expect(frames).toEqual([
      { to: "11", ids: ["m1", "m2"] },
      { to: "22", ids: ["g1"] },
    ]);
    // The next ack starts a fold of its own.
    store.uow.tx(() => acks.queue(peer(0x11), "m3"));
    clock.advance(ACK_SEND_FOLD_MS);
    await settle();
    expect(frames.slice(2)).toEqual([{ to: "11", ids: ["m3"] }]);
  });

  it("sends a full frame's worth at once, without waiting out the fold", async () => {
    const { store, frames, acks, peer } = sending();
    const ids = Array.from({ length: MAX_IDS_PER_ACK }, (_, i) => `m${i}`);
    store.uow.tx(() => ids.forEach((id) => acks.queue(peer(0x11), id)));
    await settle();
    expect(frames).toEqual([{ to: "11", ids }]);
  });

  it("drops what is pending when stopped (the sender retries), and sends nothing later", async () => {
    const { clock, store, frames, acks, peer } = sending();
    store.uow.tx(() => acks.queue(peer(0x11), "m1"));
    acks.stop();
    clock.advance(ACK_SEND_FOLD_MS * 2);
    await settle();
    expect(frames).toEqual([]);
  });
});
