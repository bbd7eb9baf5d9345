import { rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensurePrivateDir, foregroundClock, profilePaths, type Logger } from "@jarvis/core";
import { createServiceLogger, formatIpcAddress, onShutdownSignal } from "@jarvis/rpc";
import { SupervisedChild } from "./supervised-child.js";
import { ensureToken, ipcFromFlag, runningDaemonPid, writeIpcInfo } from "./daemon-files.js";

export interface DaemonOptions {
  home: string;
  listen: string;
  advertise: string;
  ipc: string | undefined;
  logLevel: string;
}

/** Both children get their own 5 s stop grace (then SIGKILL), one after the other. */
const SHUTDOWN_GRACE_MS = 12_000;

/**
 * The supervisor (`jarvis daemon`): runs the network and session services as child
 * processes, restarts a crashed one with backoff, and on SIGTERM stops session first (so it
 * can lock and say goodbye), then network. One per profile: the pid file is created
 * exclusively, and a stale one (dead pid) is replaced.
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  // Everything the node writes (logs, sockets, store) is for its owner only.
  process.umask(0o077);
  const paths = profilePaths(options.home);
  ensurePrivateDir(paths.home);
  ensurePrivateDir(paths.runDir);
  if (runningDaemonPid(paths) !== undefined) {
    process.stderr.write("jarvis: a daemon is already running for this profile\n");
    return 1;
  }
  try {
    writeFileSync(paths.pidFile, String(process.pid), { flag: "wx", mode: 0o600 });
  } catch {
    process.stderr.write("jarvis: another daemon is starting for this profile\n");
    return 1;
  }
  let ipc: Awaited<ReturnType<typeof ipcFromFlag>>;
  let log: Logger;
  try {
    log = createServiceLogger(paths.home, "daemon", options.logLevel);
    ipc = await ipcFromFlag(paths, options.ipc);
    if (ipc.session.kind === "tcp") ensureToken(paths);
    writeIpcInfo(paths, { ...ipc, listen: options.listen });
  } catch (error) {
    // Nothing runs yet: leave no pid file that claims otherwise.
    rmSync(paths.pidFile, { force: true });
    throw error;
  }
  const env = {
    ...process.env,
    JARVIS_HOME: paths.home,
    JARVIS_LISTEN: options.listen,
    JARVIS_ADVERTISE: options.advertise,
    JARVIS_SESSION_IPC: formatIpcAddress(ipc.session),
    JARVIS_NETWORK_IPC: formatIpcAddress(ipc.network),
    JARVIS_LOG_LEVEL: options.logLevel,
    JARVIS_SUPERVISED: "1",
  };
  const child = (name: string, specifier: string) => new SupervisedChild({ name, entry: serviceEntry(specifier), env, logsDir: paths.logsDir, log, clock: foregroundClock });
  const network = child("network", "@jarvis/network/main");
  const session = child("session", "@jarvis/session/main");
  network.start();
  session.start();
  log.info({ pid: process.pid }, "daemon started");
  return new Promise<number>((resolve) => {
    // Session first, so it can lock and say goodbye through the network; then the network.
    onShutdownSignal(
      async () => {
        await session.stop();
        await network.stop();
        rmSync(paths.pidFile, { force: true });
        rmSync(paths.ipcFile, { force: true });
        resolve(0);
      },
      log,
      SHUTDOWN_GRACE_MS,
    );
  });
}

/**
 * A service's published entry point (its package's "./main" export), resolved like any
 * import: through the workspace link to the real file, never by a path into its internals.
 */
function serviceEntry(specifier: string): string {
  return fileURLToPath(import.meta.resolve(specifier));
}

