import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNode, eventually, type WatchHandle } from "./helpers/cli.js";

interface HistoryEntry {
  id: string;
  from: string;
  outgoing: boolean;
  text: string;
  state: string;
  sentAt: string;
}

/**
 * The end-to-end slice (issue 3): two real nodes, four service processes, loopback, random
 * ports, temp profiles; linked both ways with link codes; a message each way.
 */
describe("two nodes talk end to end", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  let aliceUid = "";
  let bobUid = "";
  let bobWatch: WatchHandle;

  beforeAll(async () => {
    await Promise.all([alice.initWithCli(), bob.init()]);
    aliceUid = (await alice.json<{ uid: string }>(["status"])).uid;
    bobUid = (await bob.json<{ uid: string }>(["status"])).uid;
    bobWatch = bob.watch();
  });

  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("tells a profile made by jarvis init from a test profile with cheap password hashing", async () => {
    expect((await alice.json<{ weakKdf: boolean }>(["status"])).weakKdf).toBe(false);
    expect((await bob.json<{ weakKdf: boolean }>(["status"])).weakKdf).toBe(true);
    expect(await bob.ok(["status"])).toContain("weaker than the default");
  });

  it("links both ways with link codes", async () => {
    const [aliceCode, bobCode] = await Promise.all([alice.linkCode(), bob.linkCode()]);
    expect(aliceCode).toMatch(/^jarvis:\/\/[A-Za-z0-9_-]+$/);
    await alice.ok(["contact", "add", bobCode]);
    await bob.ok(["contact", "add", aliceCode]);
    const contacts = await alice.json<{ uid: string; name: string; verified: boolean }[]>(["contacts"]);
    expect(contacts).toEqual([expect.objectContaining({ uid: bobUid, name: "bob", verified: false })]);
    await eventually(async () => {
      const status = await alice.json<{ peers: { uid: string; state: string }[] }>(["status"]);
      return status.peers.find((p) => p.uid === bobUid && p.state === "green");
    }, 20_000, "alice to see bob connected");
  });

  it("delivers alice → bob and bob → alice, with states and attribution", async () => {
    const sent = (await alice.ok(["send", "bob", "hello bob, it is alice"])).trim();
    expect(sent).toMatch(/^[0-9a-f]{32} (queued|sent)$/);
    const received = await bobWatch.waitFor((e) => e.type === "message_received");
    expect(received).toMatchObject({ message: { text: "hello bob, it is alice", from: aliceUid, outgoing: false } });
    expect(typeof received.cursor).toBe("number");

    await bob.ok(["send", aliceUid.slice(0, 8), "hi alice"]);

    const bobHistory = await eventually(async () => {
      const h = await bob.json<HistoryEntry[]>(["history", "alice"]);
      return h.length === 2 && h[1]?.state === "delivered" ? h : undefined;
    }, 20_000, "bob's reply to be delivered");
    expect(bobHistory.map(({ from, outgoing, text, state }) => ({ from, outgoing, text, state }))).toEqual([
      { from: aliceUid, outgoing: false, text: "hello bob, it is alice", state: "received" },
      { from: bobUid, outgoing: true, text: "hi alice", state: "delivered" },
    ]);
    const aliceHistory = await alice.json<HistoryEntry[]>(["history", "bob"]);
    expect(aliceHistory.map(({ from, outgoing, text, state }) => ({ from, outgoing, text, state }))).toEqual([
      { from: aliceUid, outgoing: true, text: "hello bob, it is alice", state: "delivered" },
      { from: bobUid, outgoing: false, text: "hi alice", state: "received" },
    ]);
    expect(new Date(aliceHistory[0]?.sentAt ?? "").getTime()).toBeGreaterThan(0);
  });

  it("reports bad input as one line and exit code 1", async () => {
    const unknown = await alice.cli(["send", "nobody", "hi"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toEqual(['jarvis: unknown contact "nobody"']);

    const badCode = await alice.cli(["contact", "add", "jarvis://not-a-card"]);
    expect(badCode.code).toBe(1);
    expect(badCode.stderr).toMatch(/^jarvis: bad link code/);
    expect(badCode.stderr.trim().split("\n")).toHaveLength(1);

    const usage = await alice.cli(["send"]);
    expect(usage.code).toBe(2);
  });
});

describe("lifecycle errors", () => {
  const carol = new TestNode("carol");

  afterAll(() => carol.destroy());

  it("says the daemon is not running", async () => {
    const result = await carol.cli(["send", "bob", "hi"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("jarvis: daemon not running: start it with `jarvis up`");
    expect((await carol.json<{ daemon: string }>(["status"])).daemon).toBe("stopped");
  });

  it("refuses a wrong password on up and leaves nothing running", async () => {
    await carol.init();
    await carol.ok(["down"]);
    const result = await carol.cli(["up", "--listen", "127.0.0.1:0"], { JARVIS_PASSWORD: "not the password" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("jarvis: wrong password");
    expect((await carol.json<{ daemon: string }>(["status"])).daemon).toBe("stopped");
    await carol.up();
    expect((await carol.json<{ locked: boolean }>(["status"])).locked).toBe(false);
  });

  it("is idempotent: up twice is fine", async () => {
    await carol.up();
    await carol.up();
    expect((await carol.json<{ daemon: string }>(["status"])).daemon).toBe("running");
  });
});
