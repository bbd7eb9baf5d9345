import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { Backoff, type BackoffPolicy, type Clock, type Logger, type TimerHandle } from "@jarvis/core";
import { SUPERVISOR_PIPE_ENV, SUPERVISOR_PIPE_FD, SupervisorPipe, type PipeMessage } from "@jarvis/rpc";
import { DEFAULT_HEALTH_POLICY, HealthWatch, type HealthPolicy, type HealthProbe } from "./health-watch.js";

/** Crash-loop protection: 0.5 s, 1 s, 2 s … up to 30 s between restarts. */
export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 500, factor: 2, capMs: 30_000, jitter: "none" };
/** A service that ran this long before exiting is restarted as if for the first time. */
export const HEALTHY_AFTER_MS = 60_000;
/** After this many exits in a row, each before it ran healthily, the service is given up on. */
export const MAX_QUICK_RESTARTS = 6;
const STOP_GRACE_MS = 5_000;
/** How many restarts children.json keeps (enough to show a whole crash loop). */
const ATTEMPTS_KEPT = MAX_QUICK_RESTARTS + 2;

/** One exit that led to a restart: when, why, and how long the supervisor waited. */
export interface RestartAttempt {
  /** When the process exited (ISO 8601, the supervisor's clock). */
  exitedAt: string;
  exit: string;
  /** The backoff before the next start (none when given up: the last entry has null). */
  delayMs: number | null;
}

/** "starting": spawned, its health has not answered yet; "running": it has. */
export type ChildState = "starting" | "running" | "restarting" | "failed" | "stopped";

/** What `status` shows about a service (written by the supervisor to run/children.json). */
export interface ChildSnapshot {
  name: string;
  state: ChildState;
  pid: number | null;
  restarts: number;
  lastExit: string | null;
  message: string | null;
  /** The last grpc.health.v1 check: "answering", "silent" (failed checks), or null (not watched). */
  health: "answering" | "silent" | null;
  /** The latest exits and the backoff after each, oldest first. */
  attempts: RestartAttempt[];
}

export interface ChildOptions {
  name: string;
  /** Absolute path of the service's entry point. */
  entry: string;
  /** Read at every start, so a restart gets what was learned since (e.g. bound ports). */
  env: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv);
  /** Where <name>.stderr.log is written (crash traces land there, not on our terminal). */
  logsDir: string;
  log: Logger;
  clock: Clock;
  /** A message from the service on the supervisor pipe. */
  onMessage?: (message: PipeMessage, child: SupervisedChild) => void;
  /** Just after each spawn (the session gets its key here). */
  onSpawn?: (child: SupervisedChild) => void;
  /** Whenever the state changes (for run/children.json). */
  onChange?: () => void;
  /**
   * grpc.health.v1 of the running process. With it, a child is "running" only once its health
   * answers, and one that stops answering is killed and restarted like a crash. Without it, a
   * child is running as soon as it is spawned.
   */
  health?: { probe: HealthProbe; policy?: HealthPolicy };
}

/**
 * One supervised service process: restarted with backoff when it exits or hangs (its health
 * stops answering), until stop() — or until it has crashed MAX_QUICK_RESTARTS times in a row,
 * when it is given up on loudly rather than restarted forever in silence.
 */
export class SupervisedChild {
  #options: ChildOptions;
  #log: Logger;
  #backoff = new Backoff(RESTART_BACKOFF);
  #process: ChildProcess | undefined;
  #pipe: SupervisorPipe | undefined;
  #stopping = false;
  #recycling = false;
  #startedAt = 0;
  #quickExits = 0;
  #restarts = 0;
  #state: ChildState = "stopped";
  #lastExit: string | null = null;
  #message: string | null = null;
  #restartTimer: TimerHandle | undefined;
  #watch: HealthWatch | undefined;
  /** Why we killed the current process ourselves because it hung (its exit is then a crash). */
  #hung: string | undefined;
  #answering = false;
  #attempts: RestartAttempt[] = [];

  constructor(options: ChildOptions) {
    this.#options = options;
    this.#log = options.log.child({ child: options.name });
  }

  get name(): string {
    return this.#options.name;
  }

  /** The running process's id, if one runs. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  snapshot(): ChildSnapshot {
    const health = !this.#options.health || !this.#process ? null : this.#answering ? "answering" : "silent";
    return { name: this.name, state: this.#state, pid: this.pid ?? null, restarts: this.#restarts, lastExit: this.#lastExit, message: this.#message, health, attempts: [...this.#attempts] };
  }

  /** Sends a message to the running process (dropped if none runs). */
  send(message: PipeMessage): void {
    this.#pipe?.send(message);
  }

  start(): void {
    const { name, entry, logsDir, clock } = this.#options;
    const env = typeof this.#options.env === "function" ? this.#options.env() : this.#options.env;
    const out = openSync(join(logsDir, `${name}.stderr.log`), "a", 0o600);
    const child = spawn(process.execPath, [entry], {
      env: { ...env, [SUPERVISOR_PIPE_ENV]: String(SUPERVISOR_PIPE_FD) },
      stdio: ["ignore", out, out, "pipe"],
    });
    closeSync(out);
    this.#process = child;
    this.#startedAt = clock.now();
    this.#hung = undefined;
    this.#answering = false;
    this.#setState(this.#options.health ? "starting" : "running");
    const pipeEnd = child.stdio[SUPERVISOR_PIPE_FD] as Duplex;
    const pipe = new SupervisorPipe(pipeEnd, { onMessage: (message) => this.#options.onMessage?.(message, this) });
    this.#pipe = pipe;
    child.on("exit", (code, signal) => {
      pipe.close();
      this.#watch?.stop();
      this.#watch = undefined;
      if (this.#pipe === pipe) this.#pipe = undefined;
      this.#process = undefined;
      this.#lastExit = this.#hung ? `hung: it ${this.#hung}; killed` : signal ? `killed by ${signal}` : `exit code ${code}`;
      if (this.#stopping) return this.#setState("stopped");
      if (this.#recycling) {
        this.#recycling = false;
        return this.start();
      }
      this.#scheduleRestart(code, signal);
    });
    this.#options.onSpawn?.(this);
    this.#watchHealth(child);
  }

  #watchHealth(child: ChildProcess): void {
    const { health, clock } = this.#options;
    if (!health) return;
    this.#watch = new HealthWatch(health.probe, clock, health.policy ?? DEFAULT_HEALTH_POLICY, {
      onStarted: () => {
        this.#log.info({ pid: child.pid }, "service answers its health check");
        this.#answering = true;
        this.#setState("running");
      },
      onAnswering: (answering) => {
        this.#answering = answering;
        if (!answering) this.#log.warn({ pid: child.pid }, "service did not answer a health check");
        this.#options.onChange?.();
      },
      onHung: (reason) => {
        // Alive but useless (stopped, deadlocked): SIGKILL, since it would not act on SIGTERM;
        // its exit then goes through the crash path, backoff and crash-loop limit included.
        this.#hung = reason;
        this.#answering = false;
        this.#log.error({ pid: child.pid, reason }, "service hung; killing it");
        child.kill("SIGKILL");
      },
    });
  }

  #scheduleRestart(code: number | null, signal: NodeJS.Signals | null): void {
    const { clock } = this.#options;
    if (clock.now() - this.#startedAt >= HEALTHY_AFTER_MS) {
      this.#backoff.reset();
      this.#quickExits = 0;
    }
    this.#quickExits += 1;
    const attempt: RestartAttempt = { exitedAt: new Date(clock.now()).toISOString(), exit: this.#lastExit ?? "", delayMs: null };
    this.#attempts = [...this.#attempts, attempt].slice(-ATTEMPTS_KEPT);
    if (this.#quickExits > MAX_QUICK_RESTARTS) {
      this.#message = `the ${this.name} service crashed ${MAX_QUICK_RESTARTS + 1} times in a row (last: ${this.#lastExit}); gave up restarting it — see ${join(this.#options.logsDir, `${this.name}.stderr.log`)}, then run jarvis down and jarvis up`;
      this.#log.error({ code, signal, restarts: this.#restarts }, this.#message);
      return this.#setState("failed");
    }
    const delay = this.#backoff.next();
    attempt.delayMs = delay;
    this.#restarts += 1;
    this.#log.warn({ code, signal, delay }, "service exited; restarting");
    this.#setState("restarting");
    this.#restartTimer = clock.setTimeout(() => this.start(), delay);
  }

  #setState(state: ChildState): void {
    this.#state = state;
    this.#options.onChange?.();
  }

  /** Restarts a running service on purpose (not counted as a crash): e.g. to recreate its socket. */
  async recycle(): Promise<void> {
    if (!this.#process || this.#stopping) return;
    this.#recycling = true;
    await this.#terminate(this.#process);
  }

  /** SIGTERM, and SIGKILL if it has not exited within the grace period. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#restartTimer?.cancel();
    this.#watch?.stop();
    const child = this.#process;
    if (!child) return this.#setState("stopped");
    await this.#terminate(child);
  }

  async #terminate(child: ChildProcess): Promise<void> {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = this.#options.clock.setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    timer.cancel();
  }
}
