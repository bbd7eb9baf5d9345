import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { profilePaths } from "@jarvis/core";
import { createIpcTransport } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { createTestProfile } from "@jarvis/session/testing";
import { eventually } from "../helpers/cli.js";
import { NetworkSquatter } from "./squatter.js";

const SESSION_MAIN = fileURLToPath(new URL("../../services/session/dist/main.js", import.meta.url));
const PASSWORD = "correct horse battery";

/**
 * Issue 15, "a local process binds the network IPC port first": a real session process is
 * pointed (TCP IPC) at a port another local process holds. The squatter must learn neither the
 * bearer token nor the static private key, and the session must report the network as
 * unavailable, keep retrying, and link once the real service (one that knows the token) answers.
 */
describe("a squatter on the network IPC port", () => {
  const home = mkdtempSync(join(tmpdir(), "jv-squat-"));
  const squatter = new NetworkSquatter();
  let session: ChildProcess | undefined;

  afterAll(async () => {
    session?.kill("SIGKILL");
    await squatter.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("receives neither the token nor the key; the session waits for a server that proves itself", async () => {
    const paths = profilePaths(home);
    await createTestProfile(home, { name: "victim", password: PASSWORD });
    mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
    const token = "squat-test-token-" + "k".repeat(26);
    writeFileSync(paths.token, token, { mode: 0o600 });
    const port = await squatter.start();

    session = spawn(process.execPath, [SESSION_MAIN], {
      env: { ...process.env, JARVIS_HOME: home, JARVIS_NETWORK_IPC: `tcp://127.0.0.1:${port}`, JARVIS_LISTEN: "127.0.0.1:0", JARVIS_LOG_LEVEL: "info" },
      stdio: "ignore",
    });
    // The session's own API is on its Unix socket; it shares the profile's token.
    const client = createClient(SessionService, createIpcTransport({ kind: "unix", path: paths.sessionSocket }, { token }));
    await eventually(async () => (await client.getStatus({})).identityExists || undefined, 20_000, "session up");
    await client.unlock({ password: PASSWORD });

    // Bound by count, not time: several proof attempts, each refused, while unlocked.
    await eventually(async () => (squatter.calls.filter((c) => c === "authenticate").length >= 3 ? true : undefined), 30_000, "3 proof attempts");
    const status = await client.getStatus({});
    expect([status.locked, status.networkAvailable]).toEqual([false, false]);

    const attackerCalls = [...squatter.calls];
    const attackerBytes = squatter.rawBytes();
    const attackerHeaders = squatter.headers.map((h) => JSON.stringify(h)).join("\n");
    expect(attackerCalls.every((c) => c === "authenticate"), attackerCalls.join(",")).toBe(true);
    expect(attackerHeaders).not.toContain(token);
    expect(attackerBytes.includes(Buffer.from(token))).toBe(false);
    expect(squatter.configuredKeys).toEqual([]);
    const log = readFileSync(join(paths.logsDir, "session.log"), "utf8");
    expect(log).toMatch(/could not prove it knows this node's token/);
    expect(log).not.toContain(token);

    // Control: the same recorder as a server that knows the token (the real network service
    // coming up later). The session links, and now the token and the key do arrive, so the
    // assertions above would have seen them had they been sent.
    squatter.knowsToken = token;
    await eventually(async () => (squatter.configuredKeys.length > 0 ? true : undefined), 30_000, "configure after proof");
    await eventually(async () => ((await client.getStatus({})).networkAvailable ? true : undefined), 20_000, "network available");
    const key = Buffer.from(squatter.configuredKeys[0]!);
    expect(key.length).toBe(32);
    expect(squatter.headers.some((h) => h.authorization === `Bearer ${token}`)).toBe(true);
    expect(squatter.rawBytes().includes(key)).toBe(true);
    expect(attackerBytes.includes(key)).toBe(false);
  });
});
