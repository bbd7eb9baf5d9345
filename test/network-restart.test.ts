import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "./helpers/cli.js";

interface HistoryEntry {
  id: string;
  outgoing: boolean;
  text: string;
  state: string;
}

interface Status {
  uid: string;
  listen: string;
  peers: { uid: string; state: string; stats: { connectSuccesses: number } | null }[];
}

/** Pids of the live processes whose parent is `parent` (from /proc, Linux). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may contain spaces, so parse after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) children.push(Number(name));
    } catch {
      // the process went away while we looked
    }
  }
  return children;
}

/** The pid of the daemon's network service: `node …/services/network/dist/main.js`. */
function networkPid(node: TestNode): number | undefined {
  const daemon = node.daemonPid();
  if (!daemon) return undefined;
  return childrenOf(daemon).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((arg) => arg.endsWith("services/network/dist/main.js"));
    } catch {
      return false;
    }
  });
}

/**
 * The network service of one node is killed with SIGKILL (no goodbye, no cleanup). The
 * supervisor restarts it, the session configures it again (same key, same listen port), and
 * the channel comes back by itself: messages sent afterwards are delivered both ways.
 */
describe("network service restart", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  let aliceUid = "";
  let bobUid = "";

  beforeAll(async () => {
    await Promise.all([alice.init(), bob.init()]);
    aliceUid = (await alice.json<Status>(["status"])).uid;
    bobUid = (await bob.json<Status>(["status"])).uid;
    const [aliceCode, bobCode] = await Promise.all([alice.linkCode(), bob.linkCode()]);
    await alice.ok(["contact", "add", bobCode]);
    await bob.ok(["contact", "add", aliceCode]);
  });

  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  const peerState = async (node: TestNode, uid: string) => (await node.json<Status>(["status"])).peers.find((p) => p.uid === uid)?.state;

  it("comes back by itself after kill -9 of bob's network service", async () => {
    await eventually(async () => ((await peerState(alice, bobUid)) === "green" ? true : undefined), 20_000, "alice to see bob connected");
    await eventually(async () => ((await peerState(bob, aliceUid)) === "green" ? true : undefined), 20_000, "bob to see alice connected");
    const bobListen = (await bob.json<Status>(["status"])).listen;

    const killed = networkPid(bob);
    expect(killed, "bob's network service process").toBeTypeOf("number");
    process.kill(killed as number, "SIGKILL");

    // The supervisor starts a new network process…
    const restarted = await eventually(async () => {
      const pid = networkPid(bob);
      return pid !== undefined && pid !== killed ? pid : undefined;
    }, 20_000, "the supervisor to restart bob's network service");
    expect(restarted).not.toBe(killed);
    // …the session configures it on the same listen address, and the channel is back.
    await eventually(async () => ((await bob.json<Status>(["status"])).listen === bobListen ? true : undefined), 20_000, "bob to listen again");
    await eventually(async () => ((await peerState(alice, bobUid)) === "green" ? true : undefined), 30_000, "alice to see bob again");
    await eventually(async () => ((await peerState(bob, aliceUid)) === "green" ? true : undefined), 30_000, "bob to see alice again");

    await alice.ok(["send", "bob", "after the restart"]);
    await bob.ok(["send", aliceUid.slice(0, 8), "bob's new network says hi"]);
    const aliceHistory = await eventually(async () => {
      const h = await alice.json<HistoryEntry[]>(["history", "bob"]);
      const sent = h.find((m) => m.outgoing && m.text === "after the restart");
      const got = h.find((m) => !m.outgoing && m.text === "bob's new network says hi");
      return sent?.state === "delivered" && got ? h : undefined;
    }, 30_000, "alice's message to be delivered and bob's to arrive");
    expect(aliceHistory.filter((m) => m.text === "after the restart")).toEqual([expect.objectContaining({ outgoing: true, state: "delivered" })]);
    const bobHistory = await eventually(async () => {
      const h = await bob.json<HistoryEntry[]>(["history", "alice"]);
      const sent = h.find((m) => m.outgoing && m.text === "bob's new network says hi");
      return sent?.state === "delivered" ? h : undefined;
    }, 30_000, "bob's message to be delivered");
    expect(bobHistory.filter((m) => m.text === "after the restart")).toEqual([expect.objectContaining({ outgoing: false, state: "received" })]);
    // It is a new channel, not the old one: alice's stats for bob count a second success.
    const bobSeenByAlice = (await alice.json<Status>(["status"])).peers.find((p) => p.uid === bobUid);
    expect(bobSeenByAlice?.stats?.connectSuccesses).toBeGreaterThanOrEqual(2);
    // The killed process is really gone and only one network service runs for bob.
    expect(childrenOf(bob.daemonPid() as number).filter((pid) => pid === killed)).toEqual([]);
  }, 120_000);
});
