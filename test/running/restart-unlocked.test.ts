import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "../helpers/cli.js";
import { childPid, killService, sessionClient } from "./processes.js";

interface Status {
  uid: string;
  locked: boolean;
  peers: { uid: string; state: string }[];
}

const TOTAL = 300;

/**
 * Acceptance (issue 16): while 300 messages flow from bob to alice, kill -9 alice's session,
 * then alice's network, then bob's network. Nobody types `unlock`: the supervisor hands the
 * restarted session the store key it kept, and the session reconfigures a restarted network.
 * Every message arrives exactly once, in order.
 */
describe("a node restarted piece by piece stays as the person left it", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  let aliceUid = "";

  beforeAll(async () => {
    await Promise.all([alice.init(), bob.init()]);
    aliceUid = (await alice.json<Status>(["status"])).uid;
    const [aliceCode, bobCode] = await Promise.all([alice.linkCode(), bob.linkCode()]);
    await alice.ok(["contact", "add", bobCode]);
    await bob.ok(["contact", "add", aliceCode]);
  });

  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("delivers every message exactly once, in order, through three kill -9s, with no unlock typed", async () => {
    const bobClient = sessionClient(bob);
    // Kills happen at fixed points of the flow (by count, not by time).
    const kills: Record<number, () => Promise<number>> = {
      75: () => killService(alice, "session"),
      150: () => killService(alice, "network"),
      225: () => killService(bob, "network"),
    };
    const firstAliceSession = childPid(alice, "session");
    for (let i = 1; i <= TOTAL; i++) {
      await bobClient.sendMessage({ conversation: aliceUid, text: `m${i}` });
      const kill = kills[i];
      if (kill) await kill();
    }
    expect(childPid(alice, "session")).not.toBe(firstAliceSession);

    // Alice's session came back unlocked by itself…
    const aliceStatus = await alice.json<Status>(["status"]);
    expect(aliceStatus.locked).toBe(false);
    // …and receives everything: read through a fresh client (the socket is the new session's).
    const received = await eventually(async () => {
      const { messages } = await sessionClient(alice).listMessages({ conversation: "bob", limit: 1000 });
      const incoming = messages.filter((m) => !m.outgoing);
      return incoming.length >= TOTAL ? incoming : undefined;
    }, 90_000, `alice to hold ${TOTAL} messages`);
    expect(received.map((m) => m.text)).toEqual(Array.from({ length: TOTAL }, (_, i) => `m${i + 1}`));
    expect(new Set(received.map((m) => m.id)).size).toBe(TOTAL);
  }, 240_000);
});
