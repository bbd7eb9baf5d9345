import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { TestNode, eventually } from "./helpers/cli.js";

const script = fileURLToPath(new URL("../scripts/mesh.js", import.meta.url));
const base = mkdtempSync(join(tmpdir(), "jv-mesh-"));
const env = { ...process.env, JARVIS_MESH_DIR: base, JARVIS_MESH_NODES: "alice,bob", JARVIS_PASSWORD: "mesh test password" };

function mesh(...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env, timeout: 90_000 }, (error, stdout) => resolve({ code: error ? 1 : 0, stdout }));
  });
}

/** npm run mesh: local nodes, linked and connected; running it twice is harmless; down stops them. */
describe("mesh script", () => {
  afterAll(async () => {
    await mesh("down");
    rmSync(base, { recursive: true, force: true });
  });

  it("starts linked nodes that can chat, again idempotently, and stops them", async () => {
    expect((await mesh()).code).toBe(0);
    expect((await mesh()).code).toBe(0);
    const alice = new TestNode("alice", join(base, "alice"));
    const bob = new TestNode("bob", join(base, "bob"));
    expect((await alice.json<{ name: string }[]>(["contacts"])).map((c) => c.name)).toEqual(["bob"]);
    await eventually(async () => ((await alice.json<{ peers: { state: string }[] }>(["status"])).peers[0]?.state === "green" ? true : undefined), 30_000, "alice and bob connected");
    await alice.ok(["send", "bob", "hi from the mesh"]);
    await eventually(async () => ((await bob.json<{ text: string }[]>(["history", "alice"])).length === 1 ? true : undefined), 30_000, "bob to receive");
    expect((await mesh("down")).code).toBe(0);
    expect((await alice.json<{ daemon: string }>(["status"])).daemon).toBe("stopped");
    // Two mesh-ups with real Argon2 unlocks, a connect and a delivery: ~45 s alone on 2 cores,
    // past the suite's 60 s default when other tests load the machine.
  }, 180_000);
});
