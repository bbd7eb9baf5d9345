import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "../helpers/cli.js";
import { KEY, TuiTerminal, bordersIntact } from "./harness.js";

interface HistoryEntry {
  text: string;
  state: string;
  outgoing: boolean;
}

/** Alice uses the TUI, Bob the CLI; one pair of real nodes for the whole conversation. */
describe("TUI chatting with a real node", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  let tui: TuiTerminal;

  beforeAll(async () => {
    await Promise.all([alice.init(), bob.init()]);
    await bob.ok(["contact", "add", await alice.linkCode()]);
    tui = new TuiTerminal(alice.home, { cols: 100, rows: 30 });
    await tui.waitFor("no contacts yet");
  }, 60_000);

  afterAll(async () => {
    tui?.kill();
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("shows my link code whole in a dialog (Ctrl-N)", async () => {
    const code = await alice.linkCode();
    tui.type(KEY.ctrl("n"));
    const rows = (await tui.waitFor("my link code")).split("\n");
    // Read the dialog's own columns: from its top-left corner to its top-right corner.
    const top = rows.findIndex((r) => r.includes("┌─ my link code"));
    const left = rows[top]!.indexOf("┌─ my link code");
    const right = rows[top]!.indexOf("┐", left);
    const inside = rows.slice(top + 1).map((r) => r.slice(left + 1, right).trim());
    expect(inside.join("")).toContain(code);
    tui.type(KEY.escape);
    await tui.waitFor((s) => !s.includes("my link code"));
  });

  it("adds a contact by link code after showing its name and fingerprint", async () => {
    tui.type(KEY.ctrl("a"));
    await tui.waitFor("Paste a jarvis://");
    tui.paste(await bob.linkCode());
    tui.type(KEY.enter);
    const preview = await tui.waitFor("check and save");
    const bobStatus = await bob.json<{ fingerprint: string }>(["status"]);
    expect(preview.replace(/[\s│]/g, "")).toContain(bobStatus.fingerprint);
    tui.type(KEY.enter);
    await tui.waitFor((s) => /● bob/.test(s) && !s.includes("check and save"));
    expect((await alice.json<{ name: string }[]>(["contacts"])).map((c) => c.name)).toEqual(["bob"]);
  });

  it("sends a message that arrives at the other node", async () => {
    tui.type(`hello bob from the tui${KEY.enter}`);
    const history = await eventually(async () => {
      const h = await bob.json<HistoryEntry[]>(["history", "alice"]);
      return h.some((m) => m.text === "hello bob from the tui") ? h : undefined;
    }, 30_000, "bob to receive it");
    expect(history.filter((m) => m.text === "hello bob from the tui")).toHaveLength(1);
    await tui.waitFor(/hello bob from the tui ✓/.source);
  });

  it("receives while the conversation is open: no unread badge, and the sender sees read", async () => {
    await bob.ok(["send", "alice", "are you reading this?"]);
    await tui.waitFor("are you reading this?");
    const read = await eventually(async () => {
      const h = await bob.json<HistoryEntry[]>(["history", "alice"]);
      return h.find((m) => m.text === "are you reading this?" && m.state === "read");
    }, 30_000, "bob's message to be read");
    expect(read.outgoing).toBe(true);
    expect(await tui.text()).not.toMatch(/bob.*\(\d+\)/);
  });

  it("keeps every border intact with emoji, CJK, combining marks and RTL text", async () => {
    await bob.ok(["send", "alice", "emoji 😀👍🏽👨‍👩‍👧 ⚡ 🇫🇷 中文字 e\u0301 שלום עולם end-of-wide"]);
    const screen = await tui.waitFor("end-of-wide");
    const rows = screen.split("\n");
    expect(bordersIntact(rows)).toBe(true);
    const line = rows.find((r) => r.includes("end-of-wide"))!;
    // The right border sits in the last column: nothing pushed it.
    expect(line.trimEnd().endsWith("│")).toBe(true);
    expect([...line.trimEnd()].length).toBeLessThanOrEqual(100);
    // Switching panes and back leaves no fragments.
    tui.type(KEY.tab);
    tui.type(KEY.tab);
    expect(bordersIntact((await tui.text()).split("\n"))).toBe(true);
  });

  it("removes escape sequences whole, shows markup braces and shell syntax literally, and runs nothing", async () => {
    const marker = `/tmp/pw${process.pid}`;
    await bob.ok(["send", "alice", `x\u001b[2J {bold}x{/bold} $(touch ${marker}) done-literal`]);
    const screen = await tui.waitFor("done-literal");
    expect(screen).toContain("{bold}x{/bold}");
    expect(screen).toContain(`$(touch ${marker})`);
    // The clear-screen sequence is removed whole by the one sanitiser (docs/security.md): no
    // leftover "[2J" that a later write could complete, and nothing was acted on.
    expect(screen).toContain("x {bold}");
    expect(screen).not.toContain("[2J");
    // The earlier messages are still on screen: the clear-screen sequence did nothing.
    expect(screen).toContain("are you reading this?");
    expect(existsSync(marker)).toBe(false);
  });

  it("lists every key in the help (F1) and fits the footer in 80 columns", async () => {
    tui.type(KEY.f1);
    const keys = ["Ctrl-A", "Ctrl-N", "Ctrl-G", "Ctrl-D", "Ctrl-S", "Ctrl-P", "Ctrl-L", "PgUp", "Ctrl-Q"];
    // Waits for the whole help, not just its title: a missing key times out naming the screen.
    const help = await tui.waitFor((s) => s.includes("keys (Esc closes)") && keys.every((key) => s.includes(key)));
    for (const key of keys) expect(help).toContain(key);
    tui.type(KEY.escape);
    tui.resize(80, 24);
    const small = await tui.waitFor((s) => s.split("\n").length === 24 && s.includes("^Q quit") && !s.includes("keys (Esc"));
    expect(bordersIntact(small.split("\n"))).toBe(true);
    tui.resize(200, 60);
    const big = await tui.waitFor((s) => s.split("\n").length === 60 && s.split("\n")[0]!.length > 100);
    expect(bordersIntact(big.split("\n"))).toBe(true);
    expect(big).toContain("are you reading this?");
  });

  it("locks with nothing readable, refuses Escape, and quits from the lock screen", async () => {
    tui.resize(100, 30);
    tui.type(KEY.ctrl("l"));
    const locked = await tui.waitFor("jarvis is locked");
    for (const secret of ["bob", "hello bob", "are you reading", "alice"]) expect(locked).not.toContain(secret);
    tui.type(KEY.escape);
    await tui.waitFor("cannot be closed without the password");
    tui.type("wrong");
    const typing = await tui.waitFor("•••••");
    expect(typing).not.toContain("wrong");
    expect(typing).toContain("jarvis is locked");
    tui.type(KEY.ctrl("q"));
    expect((await tui.exited).exitCode).toBe(0);
  });
});
