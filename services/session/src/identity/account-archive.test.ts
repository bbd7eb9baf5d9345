import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InvalidArgumentError, WrongPasswordError, profilePaths } from "@jarvis/core";
import { createTestProfile, CHEAP_KDF } from "../testing/test-profile.js";
import { Store } from "../store/store.js";
import { openAccount } from "./account-files.js";
import { exportArchive, importArchive } from "./account-archive.js";

const PASSWORD = "archive password";
const dirs: string[] = [];
const tempHome = () => {
  const dir = mkdtempSync(join(tmpdir(), "jv-arch-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function archiveOf(kdf = CHEAP_KDF): Promise<Buffer> {
  const home = tempHome();
  await createTestProfile(home, { name: "ann", password: PASSWORD, kdf });
  const { db } = await openAccount(profilePaths(home), PASSWORD);
  const store = new Store(db, Date.now);
  try {
    return await exportArchive(profilePaths(home), store, PASSWORD);
  } finally {
    store.close();
  }
}

describe("account archive", () => {
  it("records the KDF parameters it was sealed with, and import derives with them", async () => {
    const archive = await archiveOf({ memoryKiB: 2048, iterations: 2, parallelism: 1 });
    expect(archive.subarray(0, 8).toString()).toBe("JARVISA2");
    expect([archive.readUInt32BE(8), archive.readUInt32BE(12), archive.readUInt32BE(16)]).toEqual([2048, 2, 1]);
    const home = tempHome();
    await importArchive(profilePaths(home), archive, PASSWORD);
    const { db, identity } = await openAccount(profilePaths(home), PASSWORD);
    db.close();
    expect(identity.name).toBe("ann");
  });

  it("refuses parameters that were changed (they are authenticated) or are out of range", async () => {
    const archive = await archiveOf();
    const tampered = Buffer.from(archive);
    tampered.writeUInt32BE(2, 12); // iterations 1 → 2: derives another key, and the header is associated data
    await expect(importArchive(profilePaths(tempHome()), tampered, PASSWORD)).rejects.toBeInstanceOf(WrongPasswordError);
    const huge = Buffer.from(archive);
    huge.writeUInt32BE(0xffffffff, 8);
    await expect(importArchive(profilePaths(tempHome()), huge, PASSWORD)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
