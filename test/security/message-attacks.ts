import { expect } from "vitest";
import { newMessageId } from "@jarvis/core";
import type { RawNoisePeer } from "../helpers/network.js";
import { eventually, TestNode } from "../helpers/cli.js";
import type { AttackStep } from "./group-and-name-attacks.js";
import { acked, bodies, chat, envelope, hello, person, Victim, type Person } from "./peer-kit.js";

/**
 * Issue 15, message identity and receiver rules, as steps against one victim (a real node,
 * bob). The other nodes are raw Noise peers with their own keys. Shared by the test file and
 * the reliability group.
 */
interface Entry {
  from: string;
  text: string;
  sentAt: string;
}

export function messageAttacks(victimName = "bob"): { victim: Victim; contacts: Person[]; steps: AttackStep[] } {
  const victim = new Victim(new TestNode(victimName));
  const bob = victim.node;
  const alice = person("alice");
  const mallory = person("mallory");
  const carol = person("carol");
  let toAlice: RawNoisePeer | undefined;

  const forgedId: AttackStep = {
    name: "keeps a member's forged copy of another member's message id apart, and acks each to its own sender",
    timeoutMs: 90_000,
    async run() {
      const groupId = (await bob.ok(["group", "create", "team", "alice", "mallory"])).trim();
      toAlice = await victim.dial(alice);
      const toMallory = await victim.dial(mallory);
      // Both learn the group from bob (its creator) once their channels are up.
      for (const peer of [toAlice, toMallory]) await eventually(async () => bodies(peer).some((b) => b.case === "groupUpdate") || undefined, 20_000, "the group update");
      const id = newMessageId();
      const sameId = (text: string) =>
        envelope({ case: "groupMessage", value: { $typeName: "jarvis.peer.v1.GroupMessage", groupId, messageId: id, sequence: 1n, sentAtMs: BigInt(Date.now()), text } });
      toMallory.send(sameId("forged text"));
      await eventually(async () => acked(toMallory, id) || undefined, 20_000, "bob's ack to mallory");
      expect(acked(toAlice, id)).toBe(false); // mallory's copy acknowledged nothing of alice's

      toAlice.send(sameId("the real text"));
      const real = toAlice;
      await eventually(async () => acked(real, id) || undefined, 20_000, "bob's ack to alice");
      const history = await bob.json<Entry[]>(["history", groupId]);
      expect(history.map((m) => [m.from, m.text])).toEqual([
        [mallory.uid, "forged text"],
        [alice.uid, "the real text"],
      ]);
    },
  };

  const endOfTime: AttackStep = {
    name: "stores a message sent at 2^63-1 ms with its receive time, and history still prints",
    timeoutMs: 60_000,
    async run() {
      const peer = toAlice ?? (await victim.dial(alice));
      const id = newMessageId();
      const before = Date.now();
      peer.send(chat(id, "from the end of time", 2n ** 63n - 1n));
      await eventually(async () => acked(peer, id) || undefined, 20_000, "bob's ack");
      const text = await bob.ok(["history", "alice"]);
      expect(text).toContain("from the end of time");
      const [entry] = await bob.json<Entry[]>(["history", "alice"]);
      expect(Date.parse(entry?.sentAt ?? "")).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(entry?.sentAt ?? "")).toBeLessThanOrEqual(Date.now());
    },
  };

  const beforeHello: AttackStep = {
    name: "refuses a chat before the channel's Hello (no ack, asks for Hello), and takes it after",
    timeoutMs: 60_000,
    async run() {
      const toCarol = await victim.dial(carol, false);
      const id = newMessageId();
      toCarol.send(chat(id, "before hello"));
      const ask = await eventually(async () => bodies(toCarol).find((b) => b.case === "hello" && b.value.replyRequested), 20_000, "a Hello asking for ours");
      expect(ask).toBeDefined();
      expect(acked(toCarol, id)).toBe(false);
      expect(await bob.json<Entry[]>(["history", "carol"])).toEqual([]);

      toCarol.send(hello("carol"));
      toCarol.send(chat(id, "before hello"));
      await eventually(async () => acked(toCarol, id) || undefined, 20_000, "bob's ack after Hello");
      expect((await bob.json<Entry[]>(["history", "carol"])).map((m) => m.text)).toEqual(["before hello"]);
    },
  };

  return { victim, contacts: [alice, mallory, carol], steps: [forgedId, endOfTime, beforeHello] };
}
