import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestNode } from "./helpers/cli.js";
import { linkedNodes } from "./helpers/mesh.js";

/** Account export → delete → import with the real CLI and daemons. */
describe("account archive", () => {
  let alice: TestNode;
  let bob: TestNode;
  let aliceUid = "";

  beforeAll(async () => {
    const linked = await linkedNodes(["alice", "bob"]);
    [alice, bob] = linked.nodes as [TestNode, TestNode];
    aliceUid = linked.uids[0] as string;
  });
  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("restores identity, contacts and history into an emptied profile", async () => {
    await alice.ok(["send", "bob", "before the backup"]);
    await eventually(async () => ((await bob.json<unknown[]>(["history", "alice"])).length === 1 ? true : undefined), 20_000, "bob to receive");
    const archive = join(bob.home, "alice-account.jarvis");
    await alice.ok(["account", "export", archive]);
    expect(readFileSync(archive).includes("before the backup")).toBe(false);

    const refused = await alice.cli(["delete"]);
    expect(refused.code).toBe(2);
    const wrong = await alice.cli(["delete", "--yes"], { JARVIS_PASSWORD: "not the password" });
    expect(wrong.stderr.trim()).toBe("jarvis: wrong password");
    await alice.ok(["delete", "--yes"]);
    expect(existsSync(join(alice.home, "store.db"))).toBe(false);
    expect((await alice.json<{ identity: boolean }>(["status"])).identity).toBe(false);

    const badPassword = await alice.cli(["account", "import", archive], { JARVIS_PASSWORD: "not the password" });
    expect(badPassword.code).toBe(1);
    expect(badPassword.stderr.trim()).toBe("jarvis: wrong password or damaged archive");
    await alice.ok(["account", "import", archive]);

    const status = await alice.json<{ uid: string; name: string; locked: boolean }>(["status"]);
    expect(status).toMatchObject({ uid: aliceUid, name: "alice", locked: false });
    expect((await alice.json<{ name: string }[]>(["contacts"])).map((c) => c.name)).toEqual(["bob"]);
    expect((await alice.json<{ text: string }[]>(["history", "bob"])).map((m) => m.text)).toEqual(["before the backup"]);
    // And the restored node is a working node: the channel to bob comes back and messages flow.
    await alice.ok(["send", "bob", "after the restore"]);
    await eventually(async () => ((await bob.json<unknown[]>(["history", "alice"])).length === 2 ? true : undefined), 30_000, "bob to receive after restore");
  });
});
