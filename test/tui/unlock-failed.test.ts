import { afterAll, describe, expect, it } from "vitest";
import { TestNode, TEST_PASSWORD, eventually } from "../helpers/cli.js";
import { isAlive } from "../running/processes.js";
import { KEY, TuiTerminal } from "./harness.js";

/**
 * The TUI's unlock screen can end in an error: the daemon died while it was up, so both the
 * unlock and the status call after it failed. When the node is then unlocked elsewhere
 * (`jarvis up`), the TUI reconnects to an unlocked node and must say so: its status bar once
 * kept "locked" for good, and with it held back marking messages read.
 */
describe("TUI after its unlock screen failed", () => {
  const alice = new TestNode("alice");
  let tui: TuiTerminal | undefined;

  afterAll(async () => {
    tui?.kill();
    await alice.destroy();
  });

  it("shows the node unlocked once `jarvis up` unlocked it", async () => {
    await alice.init();
    await alice.ok(["lock"]);
    tui = new TuiTerminal(alice.home, { cols: 100, rows: 30 });
    await tui.waitFor("jarvis is locked");

    const pid = alice.daemonPid();
    expect(pid).toBeDefined();
    process.kill(-pid!, "SIGKILL");
    await eventually(async () => (isAlive(pid!) ? undefined : true), 20_000, "the daemon to be gone");
    // The unlock fails (no daemon), and so does the status check after it: the screen gives up.
    tui.type(`${TEST_PASSWORD}${KEY.enter}`);
    await tui.waitFor((s) => !s.includes("jarvis is locked"));

    await alice.up();
    const screen = await tui.waitFor((s) => s.includes("· unlocked ·") && s.includes("connected"), 90_000);
    expect(screen).not.toContain("· locked ·");
  }, 150_000);
});
