import type { ProfilePaths } from "@jarvis/core";
import { profilePaths } from "@jarvis/core";
import { createAccount } from "../identity/account-files.js";
import type { KdfParams } from "../store/key-derivation.js";

/** Argon2id at 1 MiB, one pass: fast enough to create and unlock many profiles in a test. */
export const CHEAP_KDF: KdfParams = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

export interface TestProfileOptions {
  name: string;
  password: string;
  /** Recorded in the keyfile, so every later unlock (by any process) uses it. Default CHEAP_KDF. */
  kdf?: KdfParams;
}

/**
 * Creates an identity in `home` whose keyfile records cheap KDF parameters, and closes it
 * again: a daemon started on this profile (`jarvis up`) unlocks it quickly. Only tests call
 * this; real profiles are created by the session with the default parameters.
 */
export async function createTestProfile(home: string, options: TestProfileOptions): Promise<{ uid: string; paths: ProfilePaths }> {
  const paths = profilePaths(home);
  const { db, identity } = await createAccount(paths, options.name, options.password, options.kdf ?? CHEAP_KDF);
  db.close();
  identity.privateKey.fill(0);
  return { uid: identity.uid, paths };
}
