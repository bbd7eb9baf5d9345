import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Where a node keeps its files. One profile directory per identity (design §5, §6):
 *   <home>/            0700
 *   <home>/store.db    encrypted SQLite (0600)
 *   <home>/keyfile     Argon2id salt and parameters (0600, no secrets)
 *   <home>/run/        0700: session.sock, network.sock, token, daemon.pid
 *   <home>/logs/       pino JSON logs
 */
export interface ProfilePaths {
  home: string;
  store: string;
  keyfile: string;
  runDir: string;
  sessionSocket: string;
  networkSocket: string;
  token: string;
  pidFile: string;
  ipcFile: string;
  logsDir: string;
}

export function resolveHome(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(explicit ?? env.JARVIS_HOME ?? join(homedir(), ".jarvis"));
}

export function profilePaths(home: string): ProfilePaths {
  const runDir = join(home, "run");
  return {
    home,
    store: join(home, "store.db"),
    keyfile: join(home, "keyfile"),
    runDir,
    sessionSocket: join(runDir, "session.sock"),
    networkSocket: join(runDir, "network.sock"),
    token: join(runDir, "token"),
    pidFile: join(runDir, "daemon.pid"),
    ipcFile: join(runDir, "ipc.json"),
    logsDir: join(home, "logs"),
  };
}
