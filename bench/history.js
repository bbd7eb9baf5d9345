// History that scales: a real encrypted store holding `count` messages from one contact,
// filled with direct batched inserts through the store's repository (one transaction per
// chunk, not through the network), then the public operations a client runs on it, each
// timed through the application layer and, interleaved, through the repository query alone.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { newMessageId } from "@jarvis/core";
import { TestNodes, TEST_PASSWORD, link } from "@jarvis/session/testing";
import { interleaved, round2, sig3, timeSlice } from "./measure.js";

const FILL_CHUNK = 10_000;
const PAGE = 50;
const MARK_READ = 100_000;

/**
 * `count` received messages from alice in bob's store; only the newest `unread` are unread.
 * Alice holds the same newest `unread` as outgoing "delivered", so bob's read receipts do
 * the real work on her side.
 */
function fill(alice, bob, count, unread) {
  const aliceUid = alice.identity().identity.uid;
  const bobUid = bob.identity().identity.uid;
  const base = { senderUid: aliceUid, text: "x".repeat(100), sentAt: 1, receivedAt: 1 };
  const b = bob.requireUnlocked().store;
  const a = alice.requireUnlocked().store;
  for (let start = 0; start < count; start += FILL_CHUNK) {
    const ids = Array.from({ length: Math.min(FILL_CHUNK, count - start) }, () => newMessageId());
    const firstUnread = count - unread;
    b.uow.tx(() => ids.forEach((id, i) => {
      const sequence = start + i + 1;
      b.messages.insert({ ...base, id, conversationId: aliceUid, outgoing: false, state: "received", sequence, read: sequence <= firstUnread });
    }));
    const mine = ids.filter((_, i) => start + i + 1 > firstUnread);
    if (mine.length > 0) a.uow.tx(() => mine.forEach((id, i) => a.messages.insert({ ...base, id, conversationId: bobUid, outgoing: true, state: "delivered", sequence: i + 1, read: false })));
  }
}

/** One query scenario: app layer (figure) vs the repository's own query (reference). */
async function query(name, app, repo, { sliceMs, rounds }) {
  const r = await interleaved(rounds, () => timeSlice(() => (app(), 1), sliceMs), () => timeSlice(() => (repo(), 1), sliceMs));
  return {
    figure: sig3(1000 / r.figure),
    unit: `ms per ${name}, through SessionApp`,
    ceiling: sig3(1000 / r.ceiling),
    ceilingName: "ms for the same query through the store repository alone (no application layer)",
    // Lower is better here, so the ratio is reference time over figure time.
    ratio: round2(r.figure / r.ceiling),
    target: { maxMs: 5 },
  };
}

export async function history({ count, sliceMs, rounds }) {
  const nodes = new TestNodes();
  try {
    const [aliceNode, bobNode] = await nodes.people(["alice", "bob"]);
    const alice = aliceNode.app;
    let bob = bobNode.app;
    link(alice, bob);
    const unread = Math.min(MARK_READ, count);
    const fillStart = process.hrtime.bigint();
    fill(alice, bob, count, unread);
    const fillSeconds = Number(process.hrtime.bigint() - fillStart) / 1e9;

    // Unlock to ready on the filled store: close bob, open a new app on the same profile.
    await bob.close();
    const unlockStart = process.hrtime.bigint();
    const bobAgain = nodes.node({ home: bobNode.home });
    bob = bobAgain.app;
    await bob.unlock(TEST_PASSWORD);
    const unlockMs = Number(process.hrtime.bigint() - unlockStart) / 1e6;

    const repo = bob.requireUnlocked().store.messages;
    const conversation = alice.identity().identity.uid;
    const newest = bob.listMessages("alice", { before: 0, after: 0, limit: PAGE });
    const deepCursor = newest.messages[0].position - Math.floor(count * 0.9);
    const settings = { sliceMs, rounds };
    const scenarios = {
      newestPage: await query(`newest page of ${PAGE}`, () => bob.listMessages("alice", { before: 0, after: 0, limit: PAGE }), () => repo.page(conversation, { before: 0, after: 0, limit: PAGE }), settings),
      deepPage: await query(`page of ${PAGE} 90% back`, () => bob.listMessages("alice", { before: deepCursor, after: 0, limit: PAGE }), () => repo.page(conversation, { before: deepCursor, after: 0, limit: PAGE }), settings),
      unreadCount: await query("unread count", () => bob.unreadCounts(), () => repo.unreadCounts(), settings),
    };

    // MarkRead of the unread messages; the longest event-loop turn while it runs. The reader
    // does all its own work (marks, queues receipts, hands them to its network, which reports
    // them written), but its receipts are lost on the way: alice is another node, and her
    // work must not share this process's loop and clock while the reader is timed.
    const aliceKey = alice.identity().identity.publicKey.toString("hex");
    bobAgain.network.fate = () => "lose";
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const markStart = process.hrtime.bigint();
    const marked = await bob.markRead("alice");
    const markMs = Number(process.hrtime.bigint() - markStart) / 1e6;
    delay.disable();
    // Then the sender's side: a new channel, on which the reader resends every receipt not
    // yet acked; timed until alice shows her newest message read (receipts apply in order).
    bobAgain.network.fate = undefined;
    const newestOfAlice = () => alice.listMessages("bob", { before: 0, after: 0, limit: 1 }).messages.at(-1)?.state;
    const receiptsStart = process.hrtime.bigint();
    bobAgain.network.reconnected(aliceKey);
    while (newestOfAlice() !== "read") await new Promise((resolve) => setTimeout(resolve, 5));
    const receiptsMs = Number(process.hrtime.bigint() - receiptsStart) / 1e6;
    return {
      messages: count,
      fillSeconds: round2(fillSeconds),
      unlockToReady: {
        figure: round2(unlockMs),
        unit: "ms from unlock() to ready on the filled store (includes the test profile's cheap Argon2id, not the default KDF)",
        target: { maxMs: 1000 },
      },
      ...scenarios,
      markRead: {
        figure: round2(markMs),
        unit: `ms for MarkRead of ${marked} unread messages: the reader's node alone (its receipts are queued, handed to its network and lost on the way)`,
        marked,
        longestEventLoopTurnMs: round2(delay.max / 1e6),
        target: { maxMs: 1000, longestEventLoopTurnMs: 100 },
        senderAppliesReceipts: {
          figure: round2(receiptsMs),
          unit: `ms from a new channel until the sender shows all ${marked} messages read (the reader resends its receipts; both nodes share this process)`,
        },
      },
    };
  } finally {
    await nodes.cleanup();
  }
}
