import { afterEach, describe, expect, it } from "vitest";
import { TestNode } from "../helpers/cli.js";
import { KEY, TuiTerminal } from "./harness.js";

describe("TUI first run", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("asks for the password twice, rejects a mismatch, never echoes it, and Ctrl-Q quits", async () => {
    const node = new TestNode("fresh");
    cleanup.push(() => node.destroy());
    const tui = new TuiTerminal(node.home, { cols: 80, rows: 24 });
    cleanup.push(() => tui.kill());
    await tui.waitFor("Your name");
    tui.type(`alice${KEY.enter}`);
    await tui.waitFor("choose a password");
    tui.type(`first secret${KEY.enter}`);
    const again = await tui.waitFor("type the password again");
    expect(again).not.toContain("first secret");
    tui.type(`other secret${KEY.enter}`);
    await tui.waitFor("the two passwords differ");
    tui.type(`alice${KEY.enter}`);
    await tui.waitFor("choose a password");
    tui.type(`a long password${KEY.enter}`);
    await tui.waitFor("type the password again");
    tui.type("a long password");
    // One bullet per character typed, never the text.
    const typing = await tui.waitFor("•".repeat("a long password".length));
    expect(typing).not.toContain("a long password");
    tui.type(KEY.enter);
    // The status bar names the new identity once the event stream is up.
    const main = await tui.waitFor((s) => s.includes("no contacts yet") && s.includes("alice · 0/0 online · unlocked · connected"));
    // The footer fits 80 columns with every important key.
    expect(main).toContain("^Q quit");
    expect(main).toContain("F1 help");
    tui.type(KEY.ctrl("q"));
    expect((await tui.exited).exitCode).toBe(0);
  });
});
