import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestNode } from "./helpers/cli.js";
import { linkedNodes } from "./helpers/mesh.js";

interface Entry {
  from: string;
  text: string;
  outgoing: boolean;
  state: string;
}

/** Three real nodes; pairwise fan-out of group messages and membership propagation. */
describe("groups across three nodes", () => {
  let nodes: TestNode[] = [];
  let uids: string[] = [];
  let groupId = "";

  beforeAll(async () => {
    ({ nodes, uids } = await linkedNodes(["alice", "bob", "carol"]));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.destroy()));
  });

  it("creates a group and every member learns it", async () => {
    const [alice, bob, carol] = nodes as [TestNode, TestNode, TestNode];
    groupId = (await alice.ok(["group", "create", "trio", "bob", "carol"])).trim();
    expect(groupId).toMatch(/^g[0-9a-f]{31}$/);
    for (const node of [bob, carol]) {
      const groups = await eventually(async () => {
        const list = await node.json<{ id: string; name: string; members: string[] }[]>(["groups"]);
        return list.length === 1 ? list : undefined;
      }, 20_000, `${node.name} to learn the group`);
      expect(groups[0]).toMatchObject({ id: groupId, name: "trio" });
      expect([...(groups[0]?.members ?? [])].sort()).toEqual([...uids].sort());
    }
    const aliceGroups = await alice.json<{ state: string }[]>(["groups"]);
    expect(aliceGroups[0]?.state).toBe("green");
  });

  it("delivers a message from each member to the other two", async () => {
    for (const node of nodes) await node.ok(["group", "send", groupId, `from ${node.name}`]);
    for (const [i, node] of nodes.entries()) {
      const history = await eventually(async () => {
        const h = await node.json<Entry[]>(["history", groupId]);
        return h.length === 3 ? h : undefined;
      }, 20_000, `${node.name} to have three group messages`);
      const received = history.filter((m) => !m.outgoing).map((m) => [m.from, m.text]).sort();
      const expected = nodes.filter((_, j) => j !== i).map((other) => [uids[nodes.indexOf(other)], `from ${other.name}`]);
      expect(received).toEqual(expected.sort());
    }
    const aliceOwn = await eventually(async () => {
      const h = await nodes[0]!.json<Entry[]>(["history", groupId]);
      const own = h.find((m) => m.outgoing);
      return own?.state === "delivered" ? own : undefined;
    }, 20_000, "alice's group message to be delivered to both");
    expect(aliceOwn.text).toBe("from alice");
  });

  it("lets a member leave; the others stop fanning out to it", async () => {
    const [alice, , carol] = nodes as [TestNode, TestNode, TestNode];
    await carol.ok(["group", "leave", groupId]);
    await eventually(async () => {
      const [g] = await alice.json<{ members: string[] }[]>(["groups"]);
      return g && g.members.length === 2 ? true : undefined;
    }, 20_000, "alice to see carol leave");
    const refused = await carol.cli(["group", "send", groupId, "still here?"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no longer a member/);
  });
});
