import { readdirSync, readFileSync } from "node:fs";
import { isProcessAlive } from "./daemon-files.js";
import { sleep, foregroundClock } from "@jarvis/core";

/**
 * Finds the processes of one profile without trusting run/: the supervisor and its services
 * are started with JARVIS_HOME=<profile> and JARVIS_ROLE=<daemon|network|session> in their
 * environment, which /proc/<pid>/environ shows for as long as they live. So `down` and
 * `status` still find a node whose run/ directory was deleted, or services orphaned by a
 * supervisor that died.
 */
export const ROLE_ENV = "JARVIS_ROLE";
export type Role = "daemon" | "network" | "session";

export interface ProfileProcess {
  pid: number;
  role: Role;
}

export function profileProcesses(home: string): ProfileProcess[] {
  const found: ProfileProcess[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return found; // not Linux: the pid file is all we have
  }
  const homeEntry = `JARVIS_HOME=${home}`;
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${name}/environ`, "utf8").split("\0");
    } catch {
      continue; // gone while we looked, or not ours to read
    }
    if (!environ.includes(homeEntry)) continue;
    const role = environ.find((entry) => entry.startsWith(`${ROLE_ENV}=`))?.slice(ROLE_ENV.length + 1);
    if (role === "daemon" || role === "network" || role === "session") found.push({ pid: Number(name), role });
  }
  return found;
}

/**
 * Stops every process of the profile: the supervisor first (it stops its services in order),
 * then whatever is left (orphans) with SIGTERM, and SIGKILL for any that outstay the grace.
 */
export async function stopProfileProcesses(home: string, graceMs: number): Promise<number> {
  const initial = profileProcesses(home);
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const alive = (pids: number[]) => pids.filter(isProcessAlive);
  const waitGone = async (pids: number[], ms: number) => {
    for (let waited = 0; waited < ms && alive(pids).length > 0; waited += 50) await sleep(foregroundClock, 50);
  };
  const daemons = initial.filter((p) => p.role === "daemon").map((p) => p.pid);
  signal(daemons, "SIGTERM");
  await waitGone(daemons, graceMs);
  const rest = profileProcesses(home).map((p) => p.pid);
  signal(rest, "SIGTERM");
  await waitGone(rest, graceMs);
  signal(alive([...daemons, ...rest]), "SIGKILL");
  await waitGone([...daemons, ...rest], 2_000);
  return initial.length;
}
