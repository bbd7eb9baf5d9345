import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { profilePaths } from "@jarvis/core";
import { TEST_PASSWORD, runCli } from "../helpers/cli.js";

/**
 * Issue 15, the local-IPC attack at the CLI: another local process holds the TCP port a person
 * asks `jarvis init --ipc tcp://127.0.0.1:P` to use. The node must not start against it and must
 * say so; the squatter must receive nothing secret. (The network service's port is picked by the
 * service itself, so a squatter cannot know it in advance; the session proves that service
 * before sending it anything: test/ipc/network-squatter.test.ts.)
 */
describe("a squatter on the session IPC port chosen with --ipc", () => {
  const home = mkdtempSync(join(tmpdir(), "jv-isq-"));
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  afterAll(async () => {
    await runCli(home, ["down"]);
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    rmSync(home, { recursive: true, force: true });
  });

  it("makes init fail clearly, naming the port, with no identity left behind and nothing secret sent", async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", () => resolve()));
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
  });
});
