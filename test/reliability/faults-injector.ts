import { readFileSync } from "node:fs";
import { eventually, type TestNode } from "../helpers/cli.js";
import { processesOfProfile } from "../running/processes.js";

export type Victim = "network" | "session" | "supervisor" | "tui";
const VICTIMS: readonly Victim[] = ["network", "session", "supervisor", "tui"];

export interface PlannedFault {
  /** Injected once this many messages (both senders together) have been sent. */
  at: number;
  victim: Victim;
  node: "alice" | "bob";
}

/**
 * A seeded plan: `count` faults at distinct moments spread over the exchange. Victims are drawn
 * in shuffled rounds of all four kinds, so even a short run kills each kind once; the TUI runs
 * on alice's side only.
 */
export function planFaults(random: () => number, count: number, totalMessages: number): PlannedFault[] {
  const moments = new Set<number>();
  while (moments.size < count) moments.add(Math.floor(totalMessages * (0.05 + 0.85 * random())));
  const victims: Victim[] = [];
  while (victims.length < count) victims.push(...shuffle(random, [...VICTIMS]));
  return [...moments]
    .sort((a, b) => a - b)
    .map((at, i) => {
      const victim = victims[i]!;
      return { at, victim, node: victim === "tui" || random() < 0.5 ? "alice" : "bob" };
    });
}

function shuffle<T>(random: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Counts sends of both senders and holds them back just past the next planned fault, so that
 * every fault lands while both sides are still sending (a fast exchange would otherwise be over
 * before the first restart finished). Senders may run SLACK messages past the fault's moment,
 * so the kill meets sends in flight rather than idle senders.
 */
export class ExchangeProgress {
  static readonly SLACK = 20;
  sent = 0;
  #limit = Number.POSITIVE_INFINITY;
  #waiters: (() => void)[] = [];

  /** Waits until the sender may send one more message. */
  async admit(): Promise<void> {
    while (this.sent >= this.#limit) await this.#changed();
  }

  record(): void {
    this.sent++;
    this.#wake();
  }

  async reach(count: number): Promise<void> {
    while (this.sent < count) await this.#changed();
  }

  holdAfter(count: number): void {
    this.#limit = count + ExchangeProgress.SLACK;
    this.#wake();
  }

  release(): void {
    this.#limit = Number.POSITIVE_INFINITY;
    this.#wake();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * kill -9 of the supervisor: its services follow it (by design, within 2 s); then `jarvis up`,
 * which unlocks with the password as a person would type it, must bring the node back.
 */
export async function killSupervisor(node: TestNode, upEnv: NodeJS.ProcessEnv): Promise<void> {
  const pid = await eventually(async () => node.daemonPid(), 20_000, `${node.name}'s daemon pid`);
  process.kill(pid, "SIGKILL");
  try {
    await eventually(async () => (processesOfProfile(node.home).length === 0 ? true : undefined), 30_000, `${node.name}'s services to exit after their supervisor`);
  } catch (error) {
    // Say who outlived the supervisor: an orphan service, or a daemon someone else started.
    throw new Error(`${String(error)}; still running: ${JSON.stringify(processesOfProfile(node.home).map(describeProcess))}`);
  }
  const result = await node.cli(["up", "--listen", "127.0.0.1:0"], upEnv);
  if (result.code !== 0) throw new Error(`jarvis up after the supervisor's death exited ${result.code}: ${result.stderr.trim()}`);
}

/** pid, parent, role and command line of a process, for a failure message. */
function describeProcess(pid: number): { pid: number; ppid?: number; role?: string; command?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return {
      pid,
      // pid (comm) state ppid …: comm may contain spaces, so parse after the last ')'.
      ppid: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]),
      role: environ.find((e) => e.startsWith("JARVIS_ROLE="))?.slice("JARVIS_ROLE=".length),
      command: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim(),
    };
  } catch {
    return { pid };
  }
}
