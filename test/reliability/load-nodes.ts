import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const NODE_PROCESS = fileURLToPath(new URL("./load-node-process.mjs", import.meta.url));

/** A tick of the node's 50 ms timer that came at least 100 ms late, and where the time went. */
export interface Stall {
  lateMs: number;
  onCpuMs: number;
  waitingForCpuMs: number;
  offCpuMs: number;
  ioMs: number;
}

/** What a node reports after the traffic: see load-node-process.mjs. */
export interface NodeReport {
  /** Texts from each sender, in the order the live event stream showed them. */
  received: Record<string, string[]>;
  /** Incoming texts from each sender as the store holds them, oldest first. */
  stored: Record<string, string[]>;
  maxDelayMs: number;
  p99DelayMs: number;
  peakRssBytes: number;
  busyRetries: number;
  /** The five most late ticks of a 50 ms timer, split into running, waiting for a core, and the rest. */
  stalls: Stall[];
  /** The late tick in which the main thread ran longest (its own work), if any was late. */
  mostOwnWork: Stall | null;
  /** CPU time (user + system) the node used since its traffic started. */
  cpuMs: number;
}

interface Reply {
  id: number;
  error?: string;
  [field: string]: unknown;
}

/**
 * One node of the load scenarios in its own process (load-node-process.mjs): its own event
 * loop, so a stall measured there is that node's own, as it would be for a user, not the sum
 * of every node sharing one loop. This class is the parent's handle: typed requests over the
 * IPC channel, one reply each.
 */
export class LoadNode {
  readonly name: string;
  readonly uid: string;
  readonly linkCode: string;
  #child: ChildProcess;
  #nextId = 1;
  #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  #exited: Promise<void>;

  private constructor(name: string, child: ChildProcess, hello: Reply, exited: Promise<void>) {
    this.name = name;
    this.#child = child;
    this.uid = String(hello.uid);
    this.linkCode = String(hello.linkCode);
    this.#exited = exited;
    child.on("message", (reply: Reply) => {
      const waiter = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (!waiter) return;
      if (reply.error !== undefined) waiter.reject(new Error(`${name}: ${reply.error}`));
      else waiter.resolve(reply);
    });
    child.once("exit", (code, signal) => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})`));
      this.#pending.clear();
    });
  }

  static async start(name: string): Promise<LoadNode> {
    const child = fork(NODE_PROCESS, [name], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const hello = await new Promise<Reply>((resolve, reject) => {
      child.once("message", (reply: Reply) => resolve(reply));
      child.once("exit", (code, signal) => reject(new Error(`${name} exited during start-up (${code ?? signal})`)));
    });
    return new LoadNode(name, child, hello, exited);
  }

  /** Adds every link code as a contact; both sides of a pair add each other, as people do. */
  async link(codes: string[]): Promise<void> {
    await this.#request("link", { codes });
  }

  async connectedPeers(): Promise<number> {
    return Number((await this.#request("connected")).count);
  }

  /**
   * Sends each message in order, the k-th no earlier than `startInMs + k × intervalMs` from
   * now; resolves when the last send call has returned.
   */
  async send(sends: { to: string; text: string }[], pace: { intervalMs: number; startInMs: number }): Promise<void> {
    await this.#request("send", { sends, ...pace });
  }

  async receivedCount(): Promise<number> {
    return Number((await this.#request("progress")).received);
  }

  async report(senders: string[]): Promise<NodeReport> {
    return (await this.#request("report", { senders })) as unknown as NodeReport;
  }

  /** Stops the node and deletes its profile; a node that does not answer is killed. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      await this.#request("close").catch(() => this.#child.kill("SIGKILL"));
    }
    await this.#exited;
  }

  #request(type: string, fields: object = {}): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, type, ...fields }, (error) => {
        if (!error) return;
        this.#pending.delete(id);
        reject(error);
      });
    });
  }
}
