import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestNode } from "./helpers/cli.js";
import { linkedNodes, waitForPeers } from "./helpers/mesh.js";

interface Entry {
  id: string;
  text: string;
  state: string;
  outgoing: boolean;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) return filesUnder(path);
    return stat.isFile() ? [path] : [];
  });
}

const snapshot = (dir: string) => new Map(filesUnder(dir).map((f) => [f, createHash("sha256").update(readFileSync(f)).digest("hex")]));

// Long names: a 3-byte name like "bob" turns up by chance in megabytes of ciphertext.
const ALICE = "alice-offline-test";
const BOB = "bob-offline-test";

/** Durable delivery across restarts, read receipts, and what is (not) on disk. */
describe("offline delivery and storage", () => {
  let alice: TestNode;
  let bob: TestNode;

  beforeAll(async () => {
    ({ nodes: [alice, bob] = [] as never } = await linkedNodes([ALICE, BOB]));
  });
  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("queues while bob is down, survives alice's restart, delivers in order exactly once before newer messages", async () => {
    await bob.ok(["down"]);
    const texts = [1, 2, 3, 4, 5].map((i) => `offline message ${i}`);
    for (const text of texts) expect((await alice.ok(["send", BOB, text])).trim()).toMatch(/ queued$/);
    await alice.ok(["down"]);
    await alice.up();
    await bob.up();
    await waitForPeers(bob, 1);
    await alice.ok(["send", BOB, "sixth, sent after reconnect"]);
    const bobView = await eventually(async () => {
      const h = await bob.json<Entry[]>(["history", ALICE]);
      return h.length >= 6 ? h : undefined;
    }, 30_000, "bob to receive six messages");
    expect(bobView.map((m) => m.text)).toEqual([...texts, "sixth, sent after reconnect"]);
    expect(new Set(bobView.map((m) => m.id)).size).toBe(6);

    const delivered = await eventually(async () => {
      const h = await alice.json<Entry[]>(["history", BOB]);
      return h.every((m) => m.state === "delivered") ? h : undefined;
    }, 30_000, "alice to see everything delivered");
    expect(delivered).toHaveLength(6);

    expect(JSON.parse(await bob.ok(["read", ALICE, "--json"]))).toEqual({ marked: 6 });
    await eventually(async () => {
      const h = await alice.json<Entry[]>(["history", BOB]);
      return h.every((m) => m.state === "read") ? true : undefined;
    }, 30_000, "alice to see read receipts");
  });

  it("keeps nothing readable on disk: no text, no contact name, no SQLite header", () => {
    for (const node of [alice, bob]) {
      for (const file of filesUnder(node.home)) {
        const bytes = readFileSync(file);
        expect(bytes.includes("offline message"), `${file} contains message text`).toBe(false);
        expect(bytes.includes(Buffer.from("SQLite format 3")), `${file} has a plain SQLite header`).toBe(false);
        const other = node === alice ? BOB : ALICE;
        if (!file.endsWith(".log")) expect(bytes.includes(Buffer.from(other)), `${file} contains a contact name`).toBe(false);
        if (file.endsWith(".log")) expect(bytes.includes("offline message"), `${file} logs message text`).toBe(false);
        expect(statSync(file).mode & 0o077, `${file} is readable by others`).toBe(0);
      }
      expect(statSync(node.home).mode & 0o777).toBe(0o700);
      expect(statSync(join(node.home, "run")).mode & 0o777).toBe(0o700);
    }
  });

  it("rejects a wrong password on unlock with a clear error and changes no file", async () => {
    await alice.ok(["lock"]);
    const before = snapshot(alice.home);
    const result = await alice.cli(["unlock"], { JARVIS_PASSWORD: "definitely wrong" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("jarvis: wrong password");
    const after = snapshot(alice.home);
    for (const [file, hash] of before) {
      if (file.endsWith(".log")) continue;
      expect(after.get(file), `${file} changed`).toBe(hash);
    }
    await alice.ok(["unlock"]);
  });
});
