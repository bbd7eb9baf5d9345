import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "@connectrpc/connect";
import type { ProfilePaths } from "@jarvis/core";
import { createIpcTransport } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { SESSION_CLIENT_TUNING } from "@jarvis/session/client-codecs";
import { CliError } from "./cli-error.js";
import { pollUntil } from "./poll.js";
import { probeSocket, readIpcInfo, readToken, runningDaemonPid, startErrorFile } from "./daemon-files.js";
import { ROLE_ENV } from "./profile-processes.js";
import { readFileSync } from "node:fs";

export type SessionClient = Client<typeof SessionService>;

const START_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 15_000;

/** A client for a running daemon; "daemon not running" is a clear user error. */
export async function connectSession(paths: ProfilePaths): Promise<SessionClient> {
  const ipc = readIpcInfo(paths);
  if (runningDaemonPid(paths) === undefined || !(await probeSocket(ipc.session))) {
    throw new CliError("daemon not running: start it with `jarvis up`");
  }
  return createClient(SessionService, createIpcTransport(ipc.session, { token: readToken(paths, ipc.session), ...SESSION_CLIENT_TUNING }));
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
  let daemonExited = false;
  if (runningDaemonPid(paths) === undefined) {
    const bin = fileURLToPath(new URL("../bin/jarvis.js", import.meta.url));
    const args = [bin, "daemon", "--home", paths.home, "--listen", options.listen, "--log-level", options.logLevel];
    if (options.advertise) args.push("--advertise", options.advertise);
    if (options.ipc) args.push("--ipc", options.ipc);
    // JARVIS_HOME and the role in its environment let `down` find it even without run/.
    const child = spawn(process.execPath, args, { detached: true, stdio: "ignore", env: { ...process.env, JARVIS_HOME: paths.home, [ROLE_ENV]: "daemon" } });
    child.unref();
    child.once("exit", () => (daemonExited = true));
    started = true;
  }
  const client = await pollUntil(
    async () => {
      // The supervisor we started gave up (a busy port…): say why at once, not after a timeout.
      if (daemonExited) throw new CliError(readStartError(paths) ?? `the daemon did not start; see ${paths.logsDir}`);
      const candidate = await connectSession(paths);
      const status = await candidate.getStatus({}, { timeoutMs: 2_000 });
      return status.networkAvailable ? candidate : undefined;
    },
    { timeoutMs: START_TIMEOUT_MS, failure: () => new CliError(`the daemon did not start; see ${paths.logsDir}`), retryErrors: (error) => !(error instanceof CliError && daemonExited) },
  );
  return { client, started };
}

/** Waits until the unlocked node listens for peers, so link codes carry an address. */
export async function waitUntilListening(client: SessionClient): Promise<void> {
  await pollUntil(
    async () => {
      const status = await client.getStatus({});
      return !status.locked && status.listenAddress ? true : undefined;
    },
    {
      timeoutMs: READY_TIMEOUT_MS,
      failure: () => new CliError("the node did not start listening for peers; is the --listen address free?"),
      // A failing call is an answer (e.g. the node stopped), not "not yet".
      retryErrors: false,
    },
  );
}

function readStartError(paths: ProfilePaths): string | undefined {
  try {
    return readFileSync(startErrorFile(paths), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
