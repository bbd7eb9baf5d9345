import { afterAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "../helpers/cli.js";
import { isAlive } from "../running/processes.js";
import { KEY, TuiTerminal } from "./harness.js";

/** The daemon dies under the TUI while the person is typing. */
describe("TUI across a daemon restart", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  let tui: TuiTerminal | undefined;

  afterAll(async () => {
    tui?.kill();
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("shows reconnecting, keeps the typed text, resumes from its cursor and sends what was typed", async () => {
    await Promise.all([alice.init(), bob.init()]);
    await bob.ok(["contact", "add", await alice.linkCode()]);
    await alice.ok(["contact", "add", await bob.linkCode()]);
    tui = new TuiTerminal(alice.home, { cols: 100, rows: 30 });
    await tui.waitFor((s) => s.includes("● bob") && s.includes("connected"));
    await bob.ok(["send", "alice", "before the crash"]);
    await tui.waitFor("before the crash");

    tui.type("typed while it");
    await tui.waitFor("typed while it▏");
    const pid = alice.daemonPid();
    expect(pid).toBeDefined();
    // The daemon runs detached in its own process group: kill the supervisor and its services.
    process.kill(-pid!, "SIGKILL");
    await tui.waitFor("reconnecting");
    tui.type(" was down");
    const down = await tui.waitFor("typed while it was down▏");
    expect(down).toContain("before the crash");
    // Enter while the daemon is away: the message is kept, marked as not sent yet.
    tui.type(KEY.enter);
    await tui.waitFor("not sent yet");

    // Bob writes while Alice's daemon is down; it is queued on his side.
    await bob.ok(["send", "alice", "missed while you were away"]);
    await eventually(async () => (alice.daemonPid() === undefined || !isAlive(alice.daemonPid()!) ? true : undefined), 20_000, "the daemon to be gone");
    await alice.up();

    // Resumed from the cursor: the missed message shows, the kept text went out exactly once.
    const back = await tui.waitFor((s) => s.includes("missed while you were away") && !s.includes("reconnecting") && !s.includes("not sent yet"), 90_000);
    expect(back).toContain("typed while it was down");
    const history = await eventually(async () => {
      const h = await bob.json<{ text: string }[]>(["history", "alice"]);
      return h.some((m) => m.text === "typed while it was down") ? h : undefined;
    }, 40_000, "bob to get the kept message");
    expect(history.filter((m) => m.text === "typed while it was down")).toHaveLength(1);
    expect((await tui.text()).match(/before the crash/g)).toHaveLength(1);
  }, 150_000);
});
