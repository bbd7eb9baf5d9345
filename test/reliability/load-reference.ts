import { spawn, type ChildProcess } from "node:child_process";

/**
 * The machine's own share of an event-loop stall: an idle Node process that only measures its
 * event-loop delay, run alongside a load scenario. On a shared, loaded machine a process can
 * wait hundreds of milliseconds for a CPU; what the nodes' loop shows beyond this reference
 * is theirs.
 */
const SCRIPT = `
const { monitorEventLoopDelay } = require("node:perf_hooks");
const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const keepAlive = setInterval(() => {}, 1000);
process.stdin.on("data", () => {});
process.stdin.on("end", () => {
  h.disable();
  clearInterval(keepAlive);
  process.stdout.write(JSON.stringify({ max: h.max / 1e6, p99: h.percentile(99) / 1e6 }));
});
`;

export class ReferenceLoop {
  #child: ChildProcess;
  #output = "";
  #done: Promise<void>;

  constructor() {
    this.#child = spawn(process.execPath, ["-e", SCRIPT], { stdio: ["pipe", "pipe", "inherit"] });
    this.#child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (this.#output += chunk));
    this.#done = new Promise((resolve) => this.#child.once("exit", () => resolve()));
  }

  /** Stops the reference and returns its largest and 99th-percentile delay, in ms. */
  async stop(): Promise<{ max: number; p99: number }> {
    this.#child.stdin?.end();
    await this.#done;
    return JSON.parse(this.#output) as { max: number; p99: number };
  }
}
