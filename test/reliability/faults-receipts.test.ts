import { afterAll, beforeAll, describe, it } from "vitest";
import { eventually } from "../helpers/cli.js";
import { childPid } from "../running/processes.js";
import { messageText, sendExactlyOnce, type SendTally } from "./faults-exchange.js";
import { split, wholeConversation } from "./faults-history.js";
import { startLinkedPair, type PairSide } from "./faults-pair.js";
import { expectAllRead } from "./faults-verify.js";

const COUNT = 10;

/**
 * The smallest form of what the kill -9 scenario found: the reader marks a conversation read
 * while the author's session is being restarted by its supervisor (kill -9). The author must
 * still see its messages read once its session is back — a read receipt may not be lost to a
 * restart any more than a message may.
 */
describe("read receipts across the author's session restart", () => {
  let alice: PairSide;
  let bob: PairSide;

  beforeAll(async () => {
    ({ alice, bob } = await startLinkedPair({ alice: {}, bob: {} }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([alice?.node.destroy(), bob?.node.destroy()]);
  }, 60_000);

  it("bob's messages become read although alice read them while his session was down", async () => {
    const tally: SendTally = { sent: 0, storedDespiteError: 0, resent: 0 };
    const texts = Array.from({ length: COUNT }, (_, i) => messageText("bob", i + 1));
    for (const text of texts) await sendExactlyOnce(bob.session, alice.uid, text, tally);
    await eventually(async () => (split(await alice.session.call((c) => wholeConversation(c, bob.uid))).incoming.length === COUNT ? true : undefined), 60_000, "alice to hold bob's messages");

    const session = await eventually(async () => childPid(bob.node, "session"), 20_000, "bob's session pid");
    process.kill(session, "SIGKILL");
    // Read at once, while the supervisor is still bringing bob's session back.
    await alice.session.call((c) => c.markRead({ conversation: bob.uid }));

    await bob.session.untilServing();
    // Nothing was sent by alice, so expectAllRead's own markRead on her side changes nothing
    // there: what it waits for is bob's messages reaching "read".
    await expectAllRead(alice, bob, 0, COUNT, 60_000);
  }, 180_000);
});
