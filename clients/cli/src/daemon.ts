import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePrivateDir, profilePaths, type Logger } from "@jarvis/core";
import { createServiceLogger, formatIpcAddress } from "@jarvis/rpc";
import { ensureToken, ipcFromFlag, runningDaemonPid, writeIpcInfo } from "./daemon-files.js";

export interface DaemonOptions {
  home: string;
  listen: string;
  advertise: string;
  ipc: string | undefined;
  logLevel: string;
}

const RESTART = { baseMs: 500, capMs: 30_000, healthyAfterMs: 60_000 };
const STOP_GRACE_MS = 5_000;

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
  const log = createServiceLogger(paths.home, "daemon", options.logLevel);
  const ipc = await ipcFromFlag(paths, options.ipc);
  if (ipc.session.kind === "tcp") ensureToken(paths);
  writeIpcInfo(paths, { ...ipc, listen: options.listen });
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
  const network = new Child("network", serviceEntry("@jarvis/network/main"), env, paths.logsDir, log);
  const session = new Child("session", serviceEntry("@jarvis/session/main"), env, paths.logsDir, log);
  network.start();
  session.start();
  log.info({ pid: process.pid }, "daemon started");

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      log.info({}, "daemon stopping");
      void (async () => {
        await session.stop();
        await network.stop();
        resolve();
      })();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
    process.on("SIGHUP", stop);
  });
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.ipcFile, { force: true });
  log.info({}, "daemon stopped");
  return 0;
}

function serviceEntry(specifier: string): string {
  return fileURLToPath(import.meta.resolve(specifier));
}

/** One supervised service process. */
class Child {
  #name: string;
  #entry: string;
  #env: NodeJS.ProcessEnv;
  #logsDir: string;
  #log: Logger;
  #process: ChildProcess | undefined;
  #stopping = false;
  #restarts = 0;
  #startedAt = 0;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(name: string, entry: string, env: NodeJS.ProcessEnv, logsDir: string, log: Logger) {
    this.#name = name;
    this.#entry = entry;
    this.#env = env;
    this.#logsDir = logsDir;
    this.#log = log.child({ child: name });
  }

  start(): void {
    const out = openSync(join(this.#logsDir, `${this.#name}.stderr.log`), "a", 0o600);
    const child = spawn(process.execPath, [this.#entry], { env: this.#env, stdio: ["ignore", out, out] });
    closeSync(out);
    this.#process = child;
    this.#startedAt = Date.now();
    child.on("exit", (code, signal) => {
      this.#process = undefined;
      if (this.#stopping) return;
      if (Date.now() - this.#startedAt > RESTART.healthyAfterMs) this.#restarts = 0;
      const delay = Math.min(RESTART.capMs, RESTART.baseMs * 2 ** this.#restarts++);
      this.#log.warn({ code, signal, delay }, "service exited; restarting");
      this.#restartTimer = setTimeout(() => this.start(), delay);
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const child = this.#process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}
