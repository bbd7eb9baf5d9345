import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { JARVIS_BIN, TestNode, eventually } from "./helpers/cli.js";

const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });

/** The TUI as a person uses it, in a real terminal (tmux): first run, then a message each way. */
describe("TUI smoke test in tmux", () => {
  const session = `jv-${randomBytes(4).toString("hex")}`;
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  const screen = () => tmux("capture-pane", "-p", "-t", session);
  const waitForScreen = (text: string) => eventually(async () => (screen().includes(text) ? screen() : undefined), 20_000, `"${text}" on screen`);

  afterAll(async () => {
    try {
      tmux("kill-session", "-t", session);
    } catch {
      // already gone
    }
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("creates an identity on first run, shows a received message inertly, and sends one", async () => {
    const command = `LANG=C.UTF-8 NCURSES_NO_UTF8_ACS=1 TERM=xterm-256color ${process.execPath} ${JARVIS_BIN} --home ${alice.home} --listen 127.0.0.1:0`;
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "24", command);
    await waitForScreen("Your name");
    tmux("send-keys", "-t", session, "-l", "alice");
    tmux("send-keys", "-t", session, "Enter");
    await waitForScreen("choose a password");
    tmux("send-keys", "-t", session, "-l", "a long password");
    tmux("send-keys", "-t", session, "Enter");
    await waitForScreen("type the password again");
    tmux("send-keys", "-t", session, "-l", "a long password");
    tmux("send-keys", "-t", session, "Enter");
    await waitForScreen("no contacts yet");

    await bob.init();
    await bob.ok(["contact", "add", await alice.linkCode()]);
    tmux("send-keys", "-t", session, "C-a");
    await waitForScreen("Paste a jarvis://");
    tmux("send-keys", "-t", session, "-l", await bob.linkCode());
    tmux("send-keys", "-t", session, "Enter");
    await waitForScreen("check and save");
    tmux("send-keys", "-t", session, "Enter");
    await waitForScreen("● bob");

    await bob.ok(["send", "alice", "hi \u001b[2J\u001b]0;pwned\u0007 there"]);
    const shown = await waitForScreen("there");
    // The sequences are removed whole (sanitizeForTerminal): never acted on, nothing left over.
    expect(shown).toContain("hi  there");
    expect(shown).not.toContain("pwned");

    tmux("send-keys", "-t", session, "-l", "hello from the tui");
    tmux("send-keys", "-t", session, "Enter");
    const history = await eventually(async () => {
      const h = await bob.json<{ text: string }[]>(["history", "alice"]);
      return h.some((m) => m.text === "hello from the tui") ? h : undefined;
    }, 20_000, "bob to receive the TUI's message");
    expect(history.at(-1)?.text).toBe("hello from the tui");

    // Verification from the details view, after comparing the safety number.
    tmux("send-keys", "-t", session, "C-d");
    const details = await waitForScreen("safety number");
    const expected = (JSON.parse(await alice.ok(["safety", "bob", "--json"])) as { safetyNumber: string }).safetyNumber;
    expect(details.replace(/\s/g, "")).toContain(expected);
    tmux("send-keys", "-t", session, "v");
    await waitForScreen("verified       yes");
    tmux("send-keys", "-t", session, "Escape");
    expect((await alice.json<{ verified: boolean }[]>(["contacts"]))[0]?.verified).toBe(true);
    tmux("send-keys", "-t", session, "C-q");
  });
});
