import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { eventually, type TestNode } from "../helpers/cli.js";

/** A node as these helpers need it: a TestNode, or any profile directory run by a supervisor. */
type Supervised = Pick<TestNode, "home" | "name">;

/** What the supervisor says about its services (run/children.json). */
export function childPid(node: Supervised, name: "network" | "session"): number | undefined {
  try {
    const info = JSON.parse(readFileSync(join(node.home, "run", "children.json"), "utf8")) as { children: { name: string; pid: number | null; state: string }[] };
    const child = info.children.find((c) => c.name === name);
    return child?.state === "running" && child.pid ? child.pid : undefined;
  } catch {
    return undefined;
  }
}

/** kill -9 one service of a node, then wait until the supervisor runs a new one. */
export async function killService(node: Supervised, name: "network" | "session"): Promise<number> {
  const killed = await eventually(async () => childPid(node, name), 20_000, `${node.name}'s ${name} pid`);
  process.kill(killed, "SIGKILL");
  return eventually(async () => {
    const pid = childPid(node, name);
    return pid !== undefined && pid !== killed ? pid : undefined;
  }, 20_000, `the supervisor to restart ${node.name}'s ${name}`);
}

/** A direct gRPC client of a node's session (many calls without a CLI process each). */
export function sessionClient(node: Pick<TestNode, "home">): Client<typeof SessionService> {
  const ipc = JSON.parse(readFileSync(join(node.home, "run", "ipc.json"), "utf8")) as { session: string };
  const address = parseIpcAddress(ipc.session);
  const token = address.kind === "tcp" ? readFileSync(join(node.home, "run", "token"), "utf8").trim() : undefined;
  return createClient(SessionService, createIpcTransport(address, { token }));
}

/** Pids of live processes started for this profile (JARVIS_HOME in their environment). */
export function processesOfProfile(home: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, "utf8").split("\0");
      if (environ.includes(`JARVIS_HOME=${home}`) && environ.some((e) => e.startsWith("JARVIS_ROLE="))) found.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** Whether a process is running. A zombie is dead for our purposes: /proc still lists it until it is reaped. */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}
