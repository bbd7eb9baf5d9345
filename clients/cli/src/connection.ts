import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "@connectrpc/connect";
import { systemClock, type ProfilePaths } from "@jarvis/core";
import { createIpcTransport } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { CliError } from "./cli-error.js";
import { probeSocket, readIpcInfo, readToken, runningDaemonPid } from "./daemon-files.js";

export type SessionClient = Client<typeof SessionService>;

const START_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 50;

/** A client for a running daemon; "daemon not running" is a clear user error. */
export async function connectSession(paths: ProfilePaths): Promise<SessionClient> {
  const ipc = readIpcInfo(paths);
  if (runningDaemonPid(paths) === undefined || !(await probeSocket(ipc.session))) {
    throw new CliError("daemon not running: start it with `jarvis up`");
  }
  return createClient(SessionService, createIpcTransport(ipc.session, { token: readToken(paths, ipc.session) }));
}

export interface StartOptions {
  listen: string;
  advertise: string;
  ipc: string | undefined;
  logLevel: string;
}

/** Starts the supervisor in the background unless it runs; returns once the session answers. */
export async function ensureDaemon(paths: ProfilePaths, options: StartOptions): Promise<{ client: SessionClient; started: boolean }> {
  let started = false;
  if (runningDaemonPid(paths) === undefined) {
    const bin = fileURLToPath(new URL("../bin/jarvis.js", import.meta.url));
    const args = [bin, "daemon", "--home", paths.home, "--listen", options.listen, "--log-level", options.logLevel];
    if (options.advertise) args.push("--advertise", options.advertise);
    if (options.ipc) args.push("--ipc", options.ipc);
    const child = spawn(process.execPath, args, { detached: true, stdio: "ignore", env: process.env });
    child.unref();
    started = true;
  }
  const deadline = systemClock.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const client = await connectSession(paths);
      const status = await client.getStatus({}, { timeoutMs: 2_000 });
      if (status.networkAvailable) return { client, started };
    } catch {
      // not up yet
    }
    if (systemClock.now() > deadline) throw new CliError(`the daemon did not start; see ${paths.logsDir}`);
    await delay(POLL_MS);
  }
}

/** Waits until the unlocked node listens for peers, so link codes carry an address. */
export async function waitUntilListening(client: SessionClient): Promise<void> {
  const deadline = systemClock.now() + READY_TIMEOUT_MS;
  for (;;) {
    const status = await client.getStatus({});
    if (!status.locked && status.listenAddress) return;
    if (systemClock.now() > deadline) throw new CliError("the node did not start listening for peers; is the --listen address free?");
    await delay(POLL_MS);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
