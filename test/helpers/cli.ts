import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestProfile } from "@jarvis/session/testing";

/** Drives the real `jarvis` command against real daemons in temporary profiles. */

export const JARVIS_BIN = fileURLToPath(new URL("../../clients/cli/bin/jarvis.js", import.meta.url));
export const TEST_PASSWORD = "correct horse battery";

/**
 * Reconnect backoff for nodes under test: what these tests check is delivery, not the backoff
 * curve (that is tested on a fake clock), so a restarted peer is redialled within a second.
 * The daemon passes its environment on to the network service, which reads these.
 */
const FAST_RECONNECT = { JARVIS_BACKOFF_BASE_MS: "100", JARVIS_BACKOFF_CAP_MS: "1000" };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [JARVIS_BIN, "--home", home, ...args],
      { env: { ...process.env, JARVIS_PASSWORD: TEST_PASSWORD, ...FAST_RECONNECT, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like runCli but fails the test on a non-zero exit, with stderr in the message. */
export async function cliOk(home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await runCli(home, args, env);
  if (result.code !== 0) throw new Error(`jarvis ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

export function cliJson<T>(home: string, args: string[]): Promise<T> {
  return cliOk(home, [...args, "--json"]).then((out) => JSON.parse(out) as T);
}

/** A node under test: its profile directory and cleanup that never leaves a process behind. */
export class TestNode {
  readonly home: string;
  readonly name: string;
  #watchers: ChildProcess[] = [];

  /** `home` defaults to a fresh temp profile; pass one to drive a profile made elsewhere. */
  constructor(name: string, home?: string) {
    this.name = name;
    // Short paths: a Unix socket path must fit in ~107 bytes.
    this.home = home ?? mkdtempSync(join(tmpdir(), `jv-${name.slice(0, 5)}-`));
  }

  /**
   * A test profile: the identity is created with cheap Argon2id parameters, which its keyfile
   * records (so unlocking it is cheap too, and `status` reports the weak KDF), then the node
   * is started with `jarvis up`. Tests of `jarvis init` itself use initWithCli().
   */
  async init(extra: string[] = []): Promise<string> {
    await createTestProfile(this.home, { name: this.name, password: TEST_PASSWORD });
    return this.up(extra);
  }

  /** `jarvis init` as a person runs it: default KDF, identity created by the session service. */
  initWithCli(extra: string[] = []): Promise<string> {
    return cliOk(this.home, ["init", "--name", this.name, "--listen", "127.0.0.1:0", ...extra]);
  }

  up(extra: string[] = []): Promise<string> {
    return cliOk(this.home, ["up", "--listen", "127.0.0.1:0", ...extra]);
  }

  cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
    return runCli(this.home, args, env);
  }

  ok(args: string[]): Promise<string> {
    return cliOk(this.home, args);
  }

  json<T>(args: string[]): Promise<T> {
    return cliJson<T>(this.home, args);
  }

  async linkCode(): Promise<string> {
    return (await this.ok(["link"])).trim();
  }

  /** Starts `jarvis watch --json` and collects its events until stopped. */
  watch(args: string[] = []): WatchHandle {
    const child = spawn(process.execPath, [JARVIS_BIN, "--home", this.home, "watch", "--json", ...args], {
      env: { ...process.env, JARVIS_PASSWORD: TEST_PASSWORD },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#watchers.push(child);
    return new WatchHandle(child);
  }

  daemonPid(): number | undefined {
    try {
      return Number(readFileSync(join(this.home, "run", "daemon.pid"), "utf8"));
    } catch {
      return undefined;
    }
  }

  /** `keepAt`: copy the profile (logs, run/children.json) there first, to diagnose a failure. */
  async destroy(keepAt?: string): Promise<void> {
    for (const w of this.#watchers) w.kill("SIGKILL");
    await runCli(this.home, ["down"]);
    const pid = this.daemonPid();
    if (pid) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (keepAt) {
      cpSync(this.home, keepAt, { recursive: true });
      console.log(`[test] kept ${this.name}'s profile and logs at ${keepAt}`);
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

export class WatchHandle {
  readonly events: Record<string, unknown>[] = [];
  #child: ChildProcess;
  #buffer = "";
  #waiters: (() => void)[] = [];
  stderr = "";

  constructor(child: ChildProcess) {
    this.#child = child;
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      this.#buffer += chunk;
      let newline: number;
      while ((newline = this.#buffer.indexOf("\n")) !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        if (line.trim()) this.events.push(JSON.parse(line) as Record<string, unknown>);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    child.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** Resolves with the first event matching, waiting for it as it streams in. */
  async waitFor(predicate: (event: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no matching event; saw ${JSON.stringify(this.events.map((e) => e.type))} ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): void {
    this.#child.kill("SIGTERM");
  }
}

/** Polls until check() returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
