import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { Backoff, type BackoffPolicy, type Clock, type Logger, type TimerHandle } from "@jarvis/core";

/** Crash-loop protection: 0.5 s, 1 s, 2 s … up to 30 s between restarts. */
export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 500, factor: 2, capMs: 30_000, jitter: "none" };
/** A service that ran this long before exiting is restarted as if for the first time. */
export const HEALTHY_AFTER_MS = 60_000;
const STOP_GRACE_MS = 5_000;

export interface ChildOptions {
  name: string;
  /** Absolute path of the service's entry point. */
  entry: string;
  env: NodeJS.ProcessEnv;
  /** Where <name>.stderr.log is written (crash traces land there, not on our terminal). */
  logsDir: string;
  log: Logger;
  clock: Clock;
}

/** One supervised service process: restarted with backoff when it exits, until stop(). */
export class SupervisedChild {
  #options: ChildOptions;
  #log: Logger;
  #backoff = new Backoff(RESTART_BACKOFF);
  #process: ChildProcess | undefined;
  #stopping = false;
  #startedAt = 0;
  #restartTimer: TimerHandle | undefined;

  constructor(options: ChildOptions) {
    this.#options = options;
    this.#log = options.log.child({ child: options.name });
  }

  /** The running process's id, if one runs. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  start(): void {
    const { name, entry, env, logsDir, clock } = this.#options;
    const out = openSync(join(logsDir, `${name}.stderr.log`), "a", 0o600);
    const child = spawn(process.execPath, [entry], { env, stdio: ["ignore", out, out] });
    closeSync(out);
    this.#process = child;
    this.#startedAt = clock.now();
    child.on("exit", (code, signal) => {
      this.#process = undefined;
      if (this.#stopping) return;
      if (clock.now() - this.#startedAt >= HEALTHY_AFTER_MS) this.#backoff.reset();
      const delay = this.#backoff.next();
      this.#log.warn({ code, signal, delay }, "service exited; restarting");
      this.#restartTimer = clock.setTimeout(() => this.start(), delay);
    });
  }

  /** SIGTERM, and SIGKILL if it has not exited within the grace period. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#restartTimer?.cancel();
    const child = this.#process;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = this.#options.clock.setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    timer.cancel();
  }
}
