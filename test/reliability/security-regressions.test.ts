import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Presence } from "@jarvis/proto/jarvis/session/v1/resources";
import { TestNode, eventually } from "../helpers/cli.js";
import { sessionClient } from "../running/processes.js";
import { groupAndNameAttacks } from "../security/group-and-name-attacks.js";
import { callWithoutToken, squatInitIpcPort, squatNetworkIpcPort } from "../security/ipc-attacks.js";
import { messageAttacks } from "../security/message-attacks.js";
import { rekeyCrashAttack } from "../security/rekey-crash.js";
import { terminalAttacks } from "../security/terminal-attacks.js";
import { openHeld, servicePids } from "./fuzz-process.js";
import { scaled } from "./scale.js";

/**
 * Issue 20, "security regressions": the attacks of issue 15 (test/security/*, test/ipc/*, the
 * same functions those tests run) as one group, against a fresh pair of real nodes, ann and
 * ben. Hostile peers are raw Noise endpoints with their own keys. ann takes the group and name
 * attacks; ben, in TCP IPC mode, the message-identity, receiver-rule, terminal and token
 * attacks. Then, while a stranger holds 500 half-open sockets on ben's listener, ann and ben
 * link as contacts and talk: the pair still works after everything. The local-IPC squatters and
 * the crash-during-rekey run on profiles of their own.
 */
const REKEY_SEEDS = scaled([1, 2, 3, 4], Array.from({ length: 30 }, (_, i) => i + 1));

describe("issue 15's attacks as one group, against a fresh pair of nodes", () => {
  const groupAttacks = groupAndNameAttacks("ann");
  const messageSteps = messageAttacks("ben");
  const terminal = terminalAttacks(messageSteps.victim);
  const ann = groupAttacks.victim;
  const ben = messageSteps.victim;

  beforeAll(async () => {
    await Promise.all([ann.start(groupAttacks.contacts), ben.start([...messageSteps.contacts, ...terminal.contacts], ["--ipc", "tcp://127.0.0.1:0"])]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([ann.destroy(), ben.destroy()]);
  });

  for (const step of groupAttacks.steps) it(`ann: ${step.name}`, () => step.run(), step.timeoutMs);
  for (const step of [...messageSteps.steps, ...terminal.steps]) it(`ben: ${step.name}`, () => step.run(), step.timeoutMs);
  it("ben (TCP IPC): a local caller without the token, or with a wrong one, gets UNAUTHENTICATED and no events", () => callWithoutToken(ben.node), 60_000);

  it("after all of it, with 500 half-open sockets from one stranger on ben's listener, ann and ben link and talk both ways", async () => {
    const annPids = servicePids(ann.node);
    const benPids = servicePids(ben.node);
    const stranger = await openHeld(ben.address, "127.0.0.2", 500, () => Buffer.from([0x00]));
    try {
      await ben.node.ok(["contact", "add", await ann.node.linkCode()]);
      await ann.node.ok(["contact", "add", await ben.node.linkCode()]);
      const annUid = (await ann.node.json<{ uid: string }>(["status"])).uid;
      const started = performance.now();
      const ben2ann = sessionClient(ben.node);
      await eventually(async () => ((await ben2ann.listPeers({})).peers.some((p) => p.uid === annUid && p.presence === Presence.GREEN) ? true : undefined), 20_000, "ann connected at ben");
      const connectMs = performance.now() - started;
      const held = stranger.filter((s) => !s.closed).length;
      console.log(`security-regressions: ben showed ann green ${connectMs.toFixed(0)} ms after ann's contact add (presence settles over 1 s) while 127.0.0.2 held ${held} of 500 sockets`);
      expect(held).toBeLessThanOrEqual(16);

      await ann.node.ok(["send", "ben", "hello ben, after the attacks"]);
      await ben.node.ok(["send", "ann", "hello ann, after the attacks"]);
      const at = async (node: TestNode, peer: string, text: string) =>
        eventually(async () => {
          const history = await node.json<{ text: string }[]>(["history", peer]);
          return history.filter((m) => m.text === text).length === 1 ? true : undefined;
        }, 20_000, `${text} at ${node.name}`);
      await at(ben.node, "ann", "hello ben, after the attacks");
      await at(ann.node, "ben", "hello ann, after the attacks");
      expect([servicePids(ann.node), servicePids(ben.node)]).toEqual([annPids, benPids]);
    } finally {
      for (const socket of stranger) socket.destroy();
    }
  }, 90_000);
});

describe("issue 15's local and at-rest attacks, each on a profile of its own", () => {
  it("a squatter on the --ipc port at init: init fails naming the port, nothing secret sent", () => squatInitIpcPort(), 60_000);
  it("a squatter on the network IPC port: neither the token nor the key reaches it", () => squatNetworkIpcPort(), 90_000);
  it(`a password change killed at ${REKEY_SEEDS.length} seeded points leaves the old or the new password working`, async () => {
    const outcomes = await rekeyCrashAttack({ messages: scaled(2_000, 4_000), seeds: REKEY_SEEDS });
    console.log(`security-regressions: ${outcomes.join("; ")}`);
  }, scaled(180_000, 0));
});
