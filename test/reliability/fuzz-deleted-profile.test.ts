import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createIpcTransport } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { createTestProfile } from "@jarvis/session/testing";
import { eventually, TEST_PASSWORD, TestNode } from "../helpers/cli.js";
import { isAlive, memoryOf, servicePids } from "./fuzz-process.js";

/**
 * A profile directory deleted under a running node (rm -rf), then SIGTERM: seen once on a
 * developer machine, services from an older build did not stop and grew to 2.2 GB RSS. Here,
 * under the supervisor (`jarvis up`) and as bare services without one (the compose layout),
 * every process must be gone within a bound, and none may balloon while it stops. Memory is
 * sampled from /proc on each poll; the bounds are counts of polls, not sleeps.
 */
const EXIT_BOUND_MS = 10_000;
// The spin allocates some 150–300 MB/s here; the watchdog allows it 1 s (peaks of 80–440 MiB seen), against 2.2 GB and rising without it.
const RSS_BOUND_MIB = 768;
const SESSION_MAIN = fileURLToPath(new URL("../../services/session/dist/main.js", import.meta.url));
const NETWORK_MAIN = fileURLToPath(new URL("../../services/network/dist/main.js", import.meta.url));

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
});

/** Polls until every pid is gone; returns the highest RSS seen (MiB) and how long it took. */
async function waitGone(pids: number[], what: string): Promise<{ peakMiB: number; ms: number }> {
  const begun = performance.now();
  let peakMiB = 0;
  const sample = () => {
    for (const pid of pids) {
      try {
        const { rssMiB } = memoryOf(pid);
        if (Number.isFinite(rssMiB)) peakMiB = Math.max(peakMiB, rssMiB); // a zombie has no VmRSS
      } catch {
        // gone between the check and the read
      }
    }
  };
  try {
    await eventually(async () => {
      sample();
      return pids.every((pid) => !isAlive(pid)) ? true : undefined;
    }, EXIT_BOUND_MS, what);
  } catch (error) {
    const left = pids.filter(isAlive).map((pid) => `${pid} ${describeProcess(pid)}`);
    throw new Error(`${String(error)}; still running: ${left.join("; ")}; highest RSS seen ${peakMiB.toFixed(1)} MiB`);
  }
  return { peakMiB, ms: performance.now() - begun };
}

/** Role, state and memory of a live process, for the failure message. */
function describeProcess(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "?";
    const role = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(1, 3).join(" ");
    return `${role} state ${field("State")} rss ${field("VmRSS")} threads ${field("Threads")}`;
  } catch {
    return "(gone)";
  }
}

function signal(pids: number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
}

describe("a profile directory deleted under a running node, then SIGTERM", () => {
  it("under the supervisor: the daemon and both services are gone within the bound, without growing", async () => {
    const node = new TestNode("gone");
    await node.init();
    const daemon = node.daemonPid() as number;
    const { network, session } = servicePids(node);
    const pids = [daemon, network, session];
    started.push(...pids);
    const before = Math.max(...[network, session].map((pid) => memoryOf(pid).rssMiB));
    rmSync(node.home, { recursive: true, force: true });
    signal([network, session], "SIGTERM");
    const { peakMiB, ms } = await waitGone(pids, "the daemon and its services to exit");
    console.log(`deleted-profile (supervised): all 3 processes gone ${ms.toFixed(0)} ms after SIGTERM; service RSS before ${before.toFixed(1)} MiB, highest seen while stopping ${peakMiB.toFixed(1)} MiB`);
    expect(peakMiB).toBeLessThan(RSS_BOUND_MIB);
    rmSync(node.home, { recursive: true, force: true }); // anything a dying process wrote back
  }, 60_000);

  it("bare services without a supervisor (the compose layout): both are gone within the bound, without growing", async () => {
    const home = mkdtempSync(join(tmpdir(), "jv-bare-"));
    try {
      await createTestProfile(home, { name: "bare", password: TEST_PASSWORD });
      mkdirSync(join(home, "run"), { recursive: true, mode: 0o700 });
      const env = { ...process.env, JARVIS_HOME: home, JARVIS_LISTEN: "127.0.0.1:0", JARVIS_LOG_LEVEL: "info" };
      const children = [NETWORK_MAIN, SESSION_MAIN].map((main) => spawn(process.execPath, [main], { env, stdio: "ignore" }));
      const pids = children.map((child) => child.pid as number);
      started.push(...pids);
      const client = createClient(SessionService, createIpcTransport({ kind: "unix", path: join(home, "run", "session.sock") }));
      await eventually(async () => ((await client.getStatus({})).identityExists ? true : undefined), 20_000, "the bare session to answer");
      await client.unlock({ password: TEST_PASSWORD });
      await eventually(async () => ((await client.getStatus({})).networkAvailable ? true : undefined), 20_000, "the session to link to the network");

      const before = Math.max(...pids.map((pid) => memoryOf(pid).rssMiB));
      rmSync(home, { recursive: true, force: true });
      signal(pids, "SIGTERM");
      const { peakMiB, ms } = await waitGone(pids, "both bare services to exit");
      console.log(`deleted-profile (bare): both services gone ${ms.toFixed(0)} ms after SIGTERM; RSS before ${before.toFixed(1)} MiB, highest seen while stopping ${peakMiB.toFixed(1)} MiB`);
      expect(peakMiB).toBeLessThan(RSS_BOUND_MIB);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
