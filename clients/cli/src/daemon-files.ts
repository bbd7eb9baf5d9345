import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { ensurePrivateDir, writeFileAtomic, type ProfilePaths } from "@jarvis/core";
import { formatIpcAddress, parseIpcAddress, type IpcAddress } from "@jarvis/rpc";
import type { ChildSnapshot } from "./supervised-child.js";

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
 * What the services are asked to bind. In TCP mode the network service always gets port 0 and
 * the session the chosen port (or 0): each service binds itself and reports the port it got
 * on the supervisor pipe. Nothing binds a port, closes it and hopes it stays free.
 */
export function requestedIpc(paths: ProfilePaths, flag: string | undefined): { session: IpcAddress; network: IpcAddress } {
  if (!flag) return defaultIpc(paths);
  const session = parseIpcAddress(flag);
  if (session.kind === "unix") return { session, network: { kind: "unix", path: paths.networkSocket } };
  return { session, network: { kind: "tcp", host: session.host, port: 0 } };
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
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed daemon whose parent (init, in a container often not reaping) has not collected
  // it yet still answers signal 0: a zombie is dead for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (not Linux): trust the signal
  }
}

/**
 * The supervisor is running if its pid is alive; a pid file without a live process is stale.
 * So is one naming the caller itself: a restarted container gives its first process the
 * same pid the previous one had, and finds that one's pid file on the volume.
 */
export function runningDaemonPid(paths: ProfilePaths): number | undefined {
  const pid = readPid(paths);
  if (pid === undefined) return undefined;
  if (pid !== process.pid && isProcessAlive(pid)) return pid;
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

/** run/children.json: each service's state as the supervisor sees it (for `status`). */
export interface ChildrenInfo {
  children: ChildSnapshot[];
}

const childrenFile = (paths: ProfilePaths) => join(paths.runDir, "children.json");

export function writeChildrenInfo(paths: ProfilePaths, info: ChildrenInfo): void {
  writeFileAtomic(childrenFile(paths), JSON.stringify(info));
}

export function readChildrenInfo(paths: ProfilePaths): ChildrenInfo | undefined {
  try {
    return JSON.parse(readFileSync(childrenFile(paths), "utf8")) as ChildrenInfo;
  } catch {
    return undefined;
  }
}

/** Why the supervisor could not start the node (read by the `up` that started it). */
export const startErrorFile = (paths: ProfilePaths) => join(paths.home, "logs", "start-error");
