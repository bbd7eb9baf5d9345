import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { profilePaths } from "@jarvis/core";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { createTestProfile } from "@jarvis/session/testing";
import { eventually, runCli, TEST_PASSWORD, type TestNode } from "../helpers/cli.js";
import { NetworkSquatter } from "../ipc/squatter.js";

/**
 * Issue 15's local-IPC attacks as functions, each against real processes in a profile of its
 * own, so test/ipc and the reliability group run the same attack.
 */
const SESSION_MAIN = fileURLToPath(new URL("../../services/session/dist/main.js", import.meta.url));

/**
 * Another local process holds the TCP port a person asks `jarvis init --ipc tcp://127.0.0.1:P`
 * to use: init fails in one line naming the port, leaves no identity, and the squatter receives
 * neither the password nor the token.
 */
export async function squatInitIpcPort(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "jv-isq-"));
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("close", () => sockets.delete(socket));
  });
  try {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;

    const result = await runCli(home, ["init", "--name", "victim", "--listen", "127.0.0.1:0", "--ipc", `tcp://127.0.0.1:${port}`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(String(port));
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr.trim()).toBe(`jarvis: the session service cannot listen on tcp://127.0.0.1:${port}: port ${port} is already in use; choose another with --ipc (or port 0 for any free one)`);
    // Found before anything started: no service ran (no log of either), no token was made.
    for (const log of ["network.log", "network.stderr.log", "session.log", "session.stderr.log"]) expect(existsSync(join(home, "logs", log))).toBe(false);
    expect(existsSync(profilePaths(home).token)).toBe(false);
    // init is atomic: no identity was left, so running it again is possible.
    expect(existsSync(profilePaths(home).keyfile)).toBe(false);
    // Nothing secret reached the squatter: not the password, not the IPC token (if one was made).
    const seen = Buffer.concat(received);
    expect(seen.includes(Buffer.from(TEST_PASSWORD))).toBe(false);
    const tokenFile = profilePaths(home).token;
    if (existsSync(tokenFile)) expect(seen.includes(Buffer.from(readFileSync(tokenFile, "utf8").trim()))).toBe(false);
  } finally {
    await runCli(home, ["down"]);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * A real session process is pointed (TCP IPC) at a port another local process holds. The
 * squatter learns neither the bearer token nor the static private key, the session reports the
 * network as unavailable, and it links once a server that knows the token answers (the control
 * that proves the assertions would see a leak).
 */
export async function squatNetworkIpcPort(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "jv-squat-"));
  const squatter = new NetworkSquatter();
  let session: ChildProcess | undefined;
  try {
    const paths = profilePaths(home);
    await createTestProfile(home, { name: "victim", password: TEST_PASSWORD });
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
    await client.unlock({ password: TEST_PASSWORD });

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

    // Control: the same recorder as a server that knows the token.
    squatter.knowsToken = token;
    await eventually(async () => (squatter.configuredKeys.length > 0 ? true : undefined), 30_000, "configure after proof");
    await eventually(async () => ((await client.getStatus({})).networkAvailable ? true : undefined), 20_000, "network available");
    const key = Buffer.from(squatter.configuredKeys[0] as Uint8Array);
    expect(key.length).toBe(32);
    expect(squatter.headers.some((h) => h.authorization === `Bearer ${token}`)).toBe(true);
    expect(squatter.rawBytes().includes(key)).toBe(true);
    expect(attackerBytes.includes(key)).toBe(false);
  } finally {
    session?.kill("SIGKILL");
    await squatter.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

async function codeOf(call: Promise<unknown>): Promise<Code | undefined> {
  return call.then(() => undefined, (error: unknown) => ConnectError.from(error).code);
}

/**
 * A local process without the token, or with a wrong one, calls a node in TCP IPC mode: every
 * call and the event stream answer UNAUTHENTICATED, and no event reaches it. `node` must have
 * been started with `--ipc tcp://127.0.0.1:0`.
 */
export async function callWithoutToken(node: TestNode): Promise<void> {
  const ipc = JSON.parse(readFileSync(join(node.home, "run", "ipc.json"), "utf8")) as { session: string };
  const session = parseIpcAddress(ipc.session);
  expect(session.kind).toBe("tcp");
  const token = readFileSync(join(node.home, "run", "token"), "utf8").trim();
  for (const wrong of [undefined, "not-the-token", token.slice(0, -1)]) {
    const client = createClient(SessionService, createIpcTransport(session, { token: wrong }));
    expect(await codeOf(client.getStatus({}))).toBe(Code.Unauthenticated);
    const events: unknown[] = [];
    const streamed = codeOf(
      (async () => {
        for await (const event of client.subscribe({ afterCursor: 0n })) events.push(event);
      })(),
    );
    expect(await streamed).toBe(Code.Unauthenticated);
    expect(events).toEqual([]);
  }
  const good = createClient(SessionService, createIpcTransport(session, { token }));
  expect((await good.getStatus({})).locked).toBe(false);
}
