import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { TestNode } from "../helpers/cli.js";
import { KEY, TuiTerminal } from "./harness.js";
import { renderPng } from "./render-png.js";

const DOCS = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Renders the main screens from the headless terminal to PNG. Always checks the images;
 * writes them to docs/screenshots/ only with JARVIS_UPDATE_SCREENSHOTS=1.
 */
describe("TUI screenshots", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  let tui: TuiTerminal | undefined;
  afterAll(async () => {
    tui?.kill();
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("renders the main screen, link code, contact details, help and lock screen", async () => {
    await Promise.all([alice.init(), bob.init()]);
    await bob.ok(["contact", "add", await alice.linkCode()]);
    await alice.ok(["contact", "add", await bob.linkCode()]);
    tui = new TuiTerminal(alice.home, { cols: 100, rows: 30 });
    await tui.waitFor((s) => s.includes("● bob") && s.includes("connected"));
    await bob.ok(["send", "alice", "hi alice, did the build pass?"]);
    await tui.waitFor("did the build pass?");
    tui.type(`yes, all green ✓${KEY.enter}`);
    await tui.waitFor(/all green ✓ ✓/.source);
    const shots: Record<string, Buffer> = { "main.png": renderPng(tui.term) };
    const capture = async (name: string, open: string, marker: string) => {
      tui!.type(open);
      await tui!.waitFor(marker);
      shots[name] = renderPng(tui!.term);
      tui!.type(KEY.escape);
      await tui!.waitFor((s) => !s.includes(marker));
    };
    await capture("link-code.png", KEY.ctrl("n"), "my link code");
    await capture("contact-details.png", KEY.ctrl("d"), "safety number");
    await capture("help.png", KEY.f1, "keys (Esc closes)");
    tui.type(KEY.ctrl("l"));
    await tui.waitFor("jarvis is locked");
    shots["lock.png"] = renderPng(tui.term);

    for (const [name, png] of Object.entries(shots)) {
      expect(png.subarray(0, 8).equals(PNG_SIGNATURE), name).toBe(true);
      expect(png.readUInt32BE(16), `${name} width`).toBe(Math.ceil(100 * 8.43));
    }
    if (process.env.JARVIS_UPDATE_SCREENSHOTS === "1") {
      mkdirSync(DOCS, { recursive: true });
      for (const [name, png] of Object.entries(shots)) writeFileSync(join(DOCS, name), png);
    }
  }, 120_000);
});
