import { expect } from "vitest";
import type { RawNoisePeer } from "../helpers/network.js";
import { eventually, TestNode } from "../helpers/cli.js";
import { ackFor, groupMessage, groupUpdate, hello, linkCodeOf, person, Victim, type Person } from "./peer-kit.js";

/**
 * Issue 15's group-authority and name attacks, as steps against one victim (a real node, bob):
 * alice (the group's creator) and mallory (a plain member) are raw Noise peers with their own
 * keys. The steps share the victim and run in order; the test file and the reliability group
 * both run them.
 */
export interface AttackStep {
  name: string;
  run(): Promise<void>;
  timeoutMs: number;
}

export function groupAndNameAttacks(victimName = "bob"): { victim: Victim; contacts: Person[]; steps: AttackStep[] } {
  const victim = new Victim(new TestNode(victimName));
  const alice = person("alice");
  const mallory = person("mallory");
  const carol = person("carol");
  const eve = person("carol"); // mallory's second key, carrying the name of bob's contact carol
  const groupId = "g" + "5".repeat(31);
  let toAlice: RawNoisePeer | undefined;
  let toMallory: RawNoisePeer | undefined;
  const bob = victim.node;

  const takeover: AttackStep = {
    name: "refuses a plain member's update that drops the creator and adds its own key under a contact's name; the creator still gets through",
    timeoutMs: 90_000,
    async run() {
      toAlice = await victim.dial(alice);
      const bobPerson = await victim.asPerson();
      toAlice.send(groupUpdate(groupId, alice, 1n, [alice, bobPerson, mallory], [alice.uid]));
      await ackFor(toAlice, `${groupId}:1`);
      const groups = await bob.json<{ id: string; members: string[] }[]>(["groups"]);
      expect(groups.map((g) => g.id)).toEqual([groupId]);

      toMallory = await victim.dial(mallory);
      toMallory.send(groupUpdate(groupId, alice, 2n, [bobPerson, mallory, eve], [mallory.uid]));
      await ackFor(toMallory, `${groupId}:2`);
      const after = await bob.json<{ id: string; members: string[] }[]>(["groups"]);
      expect([...(after[0]?.members ?? [])].sort()).toEqual([alice.uid, bobPerson.uid, mallory.uid].sort());
      const contacts = await bob.json<{ uid: string }[]>(["contacts"]);
      expect(contacts.map((c) => c.uid)).not.toContain(eve.uid);

      toAlice.send(groupMessage(groupId, "creator still heard"));
      const history = await eventually(async () => {
        const out = await bob.ok(["history", groupId]);
        return out.includes("creator still heard") ? out : undefined;
      }, 20_000, "alice's message after the attack");
      expect(history).toMatch(/alice: creator still heard/);
    },
  };

  const nameClaim: AttackStep = {
    name: "shows a contact that announces another contact's name under its own name, with the claim apart",
    timeoutMs: 60_000,
    async run() {
      const peer = toMallory ?? (await victim.dial(mallory));
      peer.send(hello("carol"));
      peer.send(groupMessage(groupId, "it is me, carol"));
      const history = await eventually(async () => {
        const out = await bob.ok(["history", groupId]);
        return out.includes("it is me, carol") ? out : undefined;
      }, 20_000, "mallory's message");
      expect(history).toMatch(/mallory: it is me, carol/);
      expect(history).not.toMatch(/carol: it is me/);
      const contacts = await bob.json<{ name: string; claimedName: string }[]>(["contacts"]);
      expect(contacts.find((c) => c.name === "mallory")?.claimedName).toBe("carol");
      expect(contacts.filter((c) => c.name === "carol")).toHaveLength(1);
    },
  };

  const sameNames: AttackStep = {
    name: 'tells apart, in group history, two contacts with the same name and a contact called "me"',
    timeoutMs: 60_000,
    async run() {
      const carol2 = person("carol");
      const me = person("me");
      for (const p of [carol2, me]) await bob.ok(["contact", "add", linkCodeOf(p)]);
      const bobPerson = await victim.asPerson();
      const creator = toAlice ?? (await victim.dial(alice));
      creator.send(groupUpdate(groupId, alice, 3n, [alice, bobPerson, mallory, carol, carol2, me], [alice.uid]));
      await ackFor(creator, `${groupId}:3`);
      for (const p of [carol, carol2, me]) (await victim.dial(p)).send(groupMessage(groupId, `hi from ${p.uid.slice(0, 8)}`));
      await bob.ok(["group", "send", groupId, "and me"]);
      const history = await eventually(async () => {
        const out = await bob.ok(["history", groupId]);
        return [carol, carol2, me].every((p) => out.includes(`hi from ${p.uid.slice(0, 8)}`)) ? out : undefined;
      }, 20_000, "the three messages");
      for (const p of [carol, carol2, me]) expect(history).toContain(`${p.name} (${p.uid.slice(0, 8)}): hi from ${p.uid.slice(0, 8)}`);
      expect(history).toMatch(/ me: and me/);
    },
  };

  return { victim, contacts: [alice, mallory, carol], steps: [takeover, nameClaim, sameNames] };
}
