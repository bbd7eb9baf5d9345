import { existsSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { ensurePrivateDir, writeFileAtomic, type ProfilePaths } from "@jarvis/core";
import { formatIpcAddress, parseIpcAddress, type IpcAddress } from "@jarvis/rpc";

/**
 * How the CLI and the supervisor find each other: run/daemon.pid and run/ipc.json (where
 * session and network listen). In TCP mode run/token holds the bearer token (0600).
 */
export interface IpcInfo {
  session: IpcAddress;
  network: IpcAddress;
  listen: string;
}

export function defaultIpc(paths: ProfilePaths): { session: IpcAddress; network: IpcAddress } {
  return { session: { kind: "unix", path: paths.sessionSocket }, network: { kind: "unix", path: paths.networkSocket } };
}

/**
 * In TCP mode the network service takes the port after the session's; with port 0 both get
 * free ports picked here (recorded in run/ipc.json for clients).
 */
export async function ipcFromFlag(paths: ProfilePaths, flag: string | undefined): Promise<{ session: IpcAddress; network: IpcAddress }> {
  if (!flag) return defaultIpc(paths);
  const session = parseIpcAddress(flag);
  if (session.kind === "unix") return { session, network: { kind: "unix", path: paths.networkSocket } };
  if (session.port === 0) {
    return {
      session: { ...session, port: await freePort(session.host) },
      network: { kind: "tcp", host: session.host, port: await freePort(session.host) },
    };
  }
  return { session, network: { kind: "tcp", host: session.host, port: session.port + 1 } };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function writeIpcInfo(paths: ProfilePaths, info: IpcInfo): void {
  ensurePrivateDir(paths.runDir);
  writeFileAtomic(paths.ipcFile, JSON.stringify({ session: formatIpcAddress(info.session), network: formatIpcAddress(info.network), listen: info.listen }));
}

export function readIpcInfo(paths: ProfilePaths): IpcInfo {
  if (!existsSync(paths.ipcFile)) return { ...defaultIpc(paths), listen: "" };
  try {
    const raw = JSON.parse(readFileSync(paths.ipcFile, "utf8")) as { session: string; network: string; listen: string };
    return { session: parseIpcAddress(raw.session), network: parseIpcAddress(raw.network), listen: raw.listen };
  } catch {
    return { ...defaultIpc(paths), listen: "" };
  }
}

export function ensureToken(paths: ProfilePaths): string {
  ensurePrivateDir(paths.runDir);
  if (existsSync(paths.token)) return readFileSync(paths.token, "utf8").trim();
  const token = randomBytes(32).toString("base64url");
  writeFileAtomic(paths.token, token);
  return token;
}

export function readToken(paths: ProfilePaths, ipc: IpcAddress): string | undefined {
  if (ipc.kind !== "tcp" || !existsSync(paths.token)) return undefined;
  return readFileSync(paths.token, "utf8").trim();
}

export function readPid(paths: ProfilePaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidFile, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The supervisor is running if its pid is alive; a pid file without a live process is stale. */
export function runningDaemonPid(paths: ProfilePaths): number | undefined {
  const pid = readPid(paths);
  if (pid === undefined) return undefined;
  if (isProcessAlive(pid)) return pid;
  rmSync(paths.pidFile, { force: true });
  return undefined;
}

export function probeSocket(address: IpcAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = address.kind === "unix" ? connect(address.path) : connect(address.port, address.host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
