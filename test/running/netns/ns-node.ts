import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestProfile } from "@jarvis/session/testing";
import { JARVIS_BIN, TEST_PASSWORD, eventually, type CliResult } from "../../helpers/cli.js";
import { processesOfProfile } from "../processes.js";
import type { HostSpec } from "./namespaces.js";

/** A restarted peer is redialled within a second: these tests check delivery, not the backoff curve. */
const FAST_RECONNECT = { JARVIS_BACKOFF_BASE_MS: "100", JARVIS_BACKOFF_CAP_MS: "1000" };

/**
 * A node whose every `jarvis` command runs inside its host's network namespace
 * (`ip netns exec NS node jarvis.js ...`). `jarvis up` starts the supervisor from there, so the
 * supervisor and its services inherit the namespace: the node listens, dials and is reachable
 * only through that namespace's interfaces. The CLI reaches the services over path-based Unix
 * sockets in the profile's run/ dir (the filesystem is shared; only abstract sockets would be
 * per namespace), but running it in the namespace too keeps it right for TCP IPC as well.
 */
export class NamespacedNode {
  readonly home: string;

  constructor(
    readonly name: string,
    readonly host: HostSpec,
  ) {
    this.home = mkdtempSync(join(tmpdir(), "jv-ns-"));
  }

  cli(args: string[]): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(
        "ip",
        ["netns", "exec", this.host.netns, process.execPath, JARVIS_BIN, "--home", this.home, ...args],
        { env: { ...process.env, JARVIS_PASSWORD: TEST_PASSWORD, ...FAST_RECONNECT }, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  async ok(args: string[]): Promise<string> {
    const result = await this.cli(args);
    if (result.code !== 0) throw new Error(`[${this.host.netns}] jarvis ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  async json<T>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, "--json"])) as T;
  }

  /** A cheap-KDF profile, then the node started listening on every interface of its namespace. */
  async start(): Promise<void> {
    await createTestProfile(this.home, { name: this.name, password: TEST_PASSWORD });
    await this.ok(["up", "--listen", "0.0.0.0:0"]);
  }

  async linkCode(): Promise<string> {
    return (await this.ok(["link"])).trim();
  }

  /** `jarvis down` in the namespace, then kill -9 whatever of the profile still runs; never throws. */
  async destroy(): Promise<number[]> {
    await this.cli(["down"]);
    const leftover = await eventually(async () => {
      const pids = processesOfProfile(this.home);
      return pids.length === 0 ? pids : undefined;
    }, 10_000, `${this.name}'s processes to exit`).catch(() => processesOfProfile(this.home));
    for (const pid of leftover) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    rmSync(this.home, { recursive: true, force: true });
    return leftover;
  }
}
