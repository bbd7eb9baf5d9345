import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { newMessageId, profilePaths } from "@jarvis/core";
import { createTestProfile, openAccount, Store } from "@jarvis/session/testing";
import { seededRandom } from "../helpers/network.js";

/**
 * Issue 15, stored secrets: a password change killed at any point leaves a store that the old
 * or the new password opens, with every message. A child process changes the password of a
 * real encrypted store of a few MB; the attack SIGKILLs it after a seeded random delay inside
 * the change, then opens the files the way the next unlock would. Shared by
 * rekey-crash.test.ts and the reliability group.
 */
const CHILD = fileURLToPath(new URL("./rekey-child.mjs", import.meta.url));
const OLD = "the old password";
const NEW = "the new password";

/** Runs the child; kills it `killAfterMs` after it said "ready" (never, when undefined). Resolves with the ms from ready to exit. */
function runChild(home: string, killAfterMs: number | undefined): Promise<{ ms: number; finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, home, OLD, NEW], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let readyAt = 0;
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (readyAt === 0 && out.includes("ready")) {
        readyAt = performance.now();
        if (killAfterMs !== undefined) setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code !== 0 && signal !== "SIGKILL") return reject(new Error(`rekey child exited ${code}: ${err}`));
      resolve({ ms: readyAt === 0 ? 0 : performance.now() - readyAt, finished: out.includes("done") });
    });
  });
}

async function countWith(home: string, password: string): Promise<number | undefined> {
  try {
    const { db } = await openAccount(profilePaths(home), password);
    const n = (db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
    db.close();
    return n;
  } catch {
    return undefined;
  }
}

async function storeWithMessages(home: string, messages: number): Promise<void> {
  await createTestProfile(home, { name: "rekey", password: OLD });
  const { db } = await openAccount(profilePaths(home), OLD);
  const store = new Store(db, Date.now);
  const text = "x".repeat(1000);
  db.transaction(() => {
    for (let i = 0; i < messages; i++) {
      store.messages.insert({ id: newMessageId(), conversationId: "c".repeat(32), senderUid: "d".repeat(32), outgoing: false, text, state: "received", sequence: i + 1, sentAt: i, receivedAt: i, read: false });
    }
  })();
  store.close();
}

/**
 * Builds a store of `messages` messages, times one uninterrupted change (the window), then for
 * each seed kills a change at a seeded point in that window and checks the old or the new
 * password opens the store with every message. Returns one line per seed.
 */
export async function rekeyCrashAttack(options: { messages: number; seeds: number[] }): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), "jv-rekey-"));
  try {
    const template = join(root, "template");
    await storeWithMessages(template, options.messages);
    expect(statSync(join(template, "store.db")).size).toBeGreaterThan(options.messages * 800);
    const full = join(root, "full");
    cpSync(template, full, { recursive: true });
    const { ms: window, finished } = await runChild(full, undefined);
    expect(finished).toBe(true);
    expect(await countWith(full, NEW)).toBe(options.messages);

    const outcomes = [`rekey window ${Math.round(window)} ms`];
    for (const seed of options.seeds) {
      const home = join(root, `seed-${seed}`);
      cpSync(template, home, { recursive: true });
      const delay = Math.floor(seededRandom(seed)() * window);
      const run = await runChild(home, delay);
      const withOld = await countWith(home, OLD);
      const withNew = withOld === undefined ? await countWith(home, NEW) : undefined;
      const opened = withOld !== undefined ? "old" : withNew !== undefined ? "new" : "neither";
      outcomes.push(`seed ${seed}: kill at ${delay} ms${run.finished ? " (finished first)" : ""} → ${opened}`);
      expect(opened, outcomes.join("\n")).not.toBe("neither");
      expect(withOld ?? withNew).toBe(options.messages);
      rmSync(home, { recursive: true, force: true });
    }
    return outcomes;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
