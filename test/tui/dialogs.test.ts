import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { decodeLinkCode } from "@jarvis/session/testing";
import { TEST_PASSWORD, TestNode, eventually } from "../helpers/cli.js";
import { KEY, TuiTerminal } from "./harness.js";

interface GroupEntry {
  id: string;
  name: string;
  members: string[];
  admins: string[];
}

const DOWN = "\x1b[B";

/** Alice in the TUI; Bob and Carol on the CLI. Pasting, and running a group from its dialogs. */
describe("TUI paste, group administration and settings with real nodes", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  const carol = new TestNode("carol");
  let tui: TuiTerminal;
  const uid: Record<string, string> = {};

  beforeAll(async () => {
    await Promise.all([alice.init(), bob.init(), carol.init()]);
    for (const [a, b] of [[alice, bob], [alice, carol], [bob, alice], [carol, alice]] as const) await a.ok(["contact", "add", await b.linkCode()]);
    for (const node of [alice, bob, carol]) uid[node.name] = (await node.json<{ uid: string }>(["status"])).uid;
    tui = new TuiTerminal(alice.home, { cols: 100, rows: 30 });
    await tui.waitFor((s) => s.includes("bob") && s.includes("carol") && s.includes("connected"));
  }, 90_000);

  afterAll(async () => {
    tui?.kill();
    await Promise.all([alice.destroy(), bob.destroy(), carol.destroy()]);
  });

  it("sends a bracketed multi-line paste as one multi-line message", async () => {
    // bob is first in the list and open; the paste keeps its newline, Enter sends it all.
    tui.paste("line one of the paste\nline two of the paste");
    await tui.waitFor("line two of the paste▏");
    tui.type(KEY.enter);
    const history = await eventually(async () => {
      const h = await bob.json<{ text: string }[]>(["history", "alice"]);
      return h.length > 0 ? h : undefined;
    }, 30_000, "bob to get the pasted message");
    expect(history.map((m) => m.text)).toEqual(["line one of the paste\nline two of the paste"]);
  });

  it("creates a group from a checkbox list, grants admin and removes a member in its details", async () => {
    tui.type(KEY.ctrl("g"));
    await tui.waitFor("Group name:");
    tui.type(`crew${KEY.enter}`);
    await tui.waitFor((s) => s.includes("members of crew") && s.includes("[ ] bob"));
    tui.type(" "); // tick bob
    tui.type(DOWN);
    tui.type(" "); // tick carol
    await tui.waitFor((s) => s.includes("[x] bob") && s.includes("[x] carol"));
    tui.type(KEY.enter);
    await tui.waitFor("#crew");
    const [created] = await alice.json<GroupEntry[]>(["groups"]);
    expect([...created!.members].sort()).toEqual([uid.alice, uid.bob, uid.carol].sort());

    // Open the group (after bob and carol in the list) and its details.
    tui.type(KEY.tab);
    tui.type(DOWN);
    await tui.waitFor("┐┌─ carol");
    tui.type(DOWN);
    await tui.waitFor("┐┌─ #crew");
    tui.type(KEY.ctrl("d"));
    await tui.waitFor((s) => s.includes("admins") && s.includes("grant admin"));

    tui.type("g");
    await tui.waitFor("grant admin to");
    tui.type(KEY.enter); // bob, the first one
    await tui.waitFor((s) => !s.includes("grant admin to") && /admins\s+bob, me/.test(s));
    await eventually(async () => ((await alice.json<GroupEntry[]>(["groups"]))[0]?.admins.includes(uid.bob!) ? true : undefined), 20_000, "bob to be admin");
    await eventually(async () => ((await bob.json<GroupEntry[]>(["groups"]))[0]?.admins.includes(uid.bob!) ? true : undefined), 30_000, "bob to learn he is admin");

    tui.type("r");
    await tui.waitFor("remove from the group");
    tui.type(DOWN);
    tui.type(KEY.enter); // carol
    await tui.waitFor("Type yes");
    tui.type(`yes${KEY.enter}`);
    await eventually(async () => ((await alice.json<GroupEntry[]>(["groups"]))[0]?.members.includes(uid.carol!) ? undefined : true), 20_000, "carol removed");
    const screen = await tui.waitFor((s) => s.includes("admins") && !/carol/.test(s.slice(s.indexOf("members"))));
    expect(screen).toMatch(/bob\s+admin/);
    await eventually(async () => ((await carol.json<GroupEntry[]>(["groups"]))[0]?.members.includes(uid.carol!) ? undefined : true), 30_000, "carol to learn she was removed");
  });

  it("settings: shows and changes the advertised address, exports the account and deletes it (masked, confirmed)", async () => {
    const before = await alice.linkCode();
    tui.type(KEY.escape);
    await tui.waitFor((s) => !s.includes("grant admin"));
    tui.type(KEY.ctrl("s"));
    await tui.waitFor((s) => s.includes("advertised") && s.includes("delete account"));
    tui.type("a");
    await tui.waitFor("host:port that other");
    tui.type(`${KEY.ctrl("u")}198.51.100.7:7777${KEY.enter}`);
    await tui.waitFor((s) => /advertised\s+198\.51\.100\.7:7777/.test(s));
    const after = await alice.linkCode();
    expect(after).not.toBe(before);
    expect(decodeLinkCode(after).addresses).toEqual(["198.51.100.7:7777"]);

    const backup = join(alice.home, "..", `alice-${process.pid}.backup`);
    tui.type("x");
    await tui.waitFor("Account password:");
    tui.type(TEST_PASSWORD);
    expect(await tui.text()).not.toContain(TEST_PASSWORD);
    tui.type(KEY.enter);
    await tui.waitFor("a new file");
    tui.type(`${KEY.ctrl("u")}${backup}${KEY.enter}`);
    await tui.waitFor("account exported to");
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(statSync(backup).size).toBeGreaterThan(0);
    rmSync(backup);

    tui.type("D");
    await tui.waitFor("Type delete");
    tui.type(`delete${KEY.enter}`);
    await tui.waitFor("Account password:");
    tui.type(`${TEST_PASSWORD}${KEY.enter}`);
    // The identity is gone: the TUI walks the person through creating a new one.
    await tui.waitFor("welcome to jarvis", 60_000);
    expect(existsSync(join(alice.home, "keyfile"))).toBe(false);
  });
});
