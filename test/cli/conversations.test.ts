import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestNode } from "../helpers/cli.js";
import { linkedNodes } from "../helpers/mesh.js";

interface Entry {
  conversation: string;
  from: string;
  text: string;
  outgoing: boolean;
  position: number;
}

/** `send`, `history` and `read` name a group by its name the way `group send` does (issue 19). */
describe("a conversation named the same way by every command", () => {
  let alice: TestNode;
  let bob: TestNode;
  let groupId = "";

  beforeAll(async () => {
    const { nodes } = await linkedNodes(["alice", "bob"]);
    [alice, bob] = nodes as [TestNode, TestNode];
    groupId = (await alice.ok(["group", "create", "team", "bob"])).trim();
    await eventually(async () => ((await bob.json<{ id: string }[]>(["groups"])).some((g) => g.id === groupId) ? true : undefined), 20_000, "bob to learn the group");
  });
  afterAll(async () => {
    await Promise.all([alice?.destroy(), bob?.destroy()]);
  });

  it("sends, lists and marks read a group by its name", async () => {
    await alice.ok(["send", "team", "hello team"]);
    const received = await eventually(async () => {
      const h = await bob.json<Entry[]>(["history", "team"]);
      return h.length === 1 ? h : undefined;
    }, 20_000, "bob to receive the group message");
    expect(received[0]).toMatchObject({ conversation: groupId, text: "hello team", outgoing: false });
    expect(received[0]?.position).toBeGreaterThan(0);
    expect(await alice.json<Entry[]>(["history", "team"])).toEqual([expect.objectContaining({ conversation: groupId, text: "hello team", outgoing: true })]);

    expect((await bob.ok(["read", "team"])).trim()).toBe("1 marked read");
    expect(await bob.json<{ marked: number }>(["read", "team"])).toEqual({ marked: 0 });
  });

  it("calls a name shared by a contact and a group ambiguous, and takes contact: / group:", async () => {
    await alice.ok(["contact", "alias", "bob", "team"]);
    const ambiguous = await alice.cli(["history", "team"]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr.trim().split("\n")).toHaveLength(1);
    expect(ambiguous.stderr).toMatch(/^jarvis: "team" names a contact and a group: contact:team \([0-9a-z]{8}\), group:team \(g[0-9a-f]{7}\)/);
    expect((await alice.cli(["send", "team", "which?"])).code).toBe(1);

    await alice.ok(["send", "contact:team", "just you"]);
    await alice.ok(["send", "group:team", "all of you"]);
    await alice.ok(["group", "send", "team", "group send still reads a group"]);
    expect((await alice.json<Entry[]>(["history", "contact:team"])).map((m) => m.text)).toEqual(["just you"]);
    expect((await alice.json<Entry[]>(["history", "group:team"])).map((m) => m.text)).toEqual(["hello team", "all of you", "group send still reads a group"]);
    expect((await alice.json<Entry[]>(["history", groupId])).map((m) => m.text)).toHaveLength(3);
  });
});
