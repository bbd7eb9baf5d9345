import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** `ip ARGS`, failing with ip's own message (which names what went wrong). */
async function ip(args: string[]): Promise<void> {
  try {
    await run("ip", args, { timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(" ")} failed: ${stderr || String(error)}`);
  }
}

/**
 * Why network namespaces cannot be used here, or undefined when they can. Checked by really
 * adding and deleting one: being root is not enough inside a container without CAP_SYS_ADMIN.
 * Synchronous, because the answer decides at collection time whether the test is skipped.
 */
export function namespacesUnavailable(): string | undefined {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "network namespaces need root (ip netns add)";
  const probe = `jv-${process.pid}-probe`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `ip netns add is not permitted here: ${stderr || String(error)}`;
  }
  try {
    execFileSync("ip", ["netns", "del", probe], { stdio: "ignore", timeout: 10_000 });
  } catch {
    // Deleting what we just added cannot fail in a way that matters for the answer.
  }
  return undefined;
}

export interface HostSpec {
  /** The namespace the node's processes run in. */
  netns: string;
  /** Its only non-loopback address, on the shared bridge. */
  address: string;
}

/**
 * N "hosts", each a network namespace with one veth interface (eth0) on a private /24, joined
 * by a bridge that lives in a further hub namespace. Nothing is created in the root namespace,
 * so the hosts are reachable only from each other, at their bridge addresses, and deleting the
 * namespaces removes every veth and the bridge with them. Names carry the pid so parallel runs
 * do not collide; the subnet may repeat across runs because each run's bridge is its own.
 */
export class BridgedHosts {
  readonly hub: string;
  readonly hosts: HostSpec[];

  constructor(count: number, subnet = "10.77.0") {
    const tag = `jv-${process.pid}`;
    this.hub = `${tag}-hub`;
    this.hosts = Array.from({ length: count }, (_, i) => ({ netns: `${tag}-h${i + 1}`, address: `${subnet}.${i + 1}` }));
  }

  async create(): Promise<void> {
    // A run that was killed before its cleanup could have left these very names behind.
    await this.destroy();
    await ip(["netns", "add", this.hub]);
    await ip(["-n", this.hub, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", this.hub, "link", "set", "br0", "up"]);
    for (const [i, host] of this.hosts.entries()) {
      const port = `p${i + 1}`;
      await ip(["netns", "add", host.netns]);
      // Created in the hub with its peer end placed straight into the host's namespace.
      await ip(["-n", this.hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", host.netns]);
      await ip(["-n", this.hub, "link", "set", port, "master", "br0"]);
      await ip(["-n", this.hub, "link", "set", port, "up"]);
      await ip(["-n", host.netns, "addr", "add", `${host.address}/24`, "dev", "eth0"]);
      await ip(["-n", host.netns, "link", "set", "eth0", "up"]);
      // Loopback too: a node dials its own IPC and lists 127.0.0.1 last on its card.
      await ip(["-n", host.netns, "link", "set", "lo", "up"]);
    }
  }

  /** Deletes every namespace this set owns (the veths and bridge go with them); never throws. */
  async destroy(): Promise<string[]> {
    const errors: string[] = [];
    for (const name of [...this.hosts.map((h) => h.netns), this.hub]) {
      if (!(await this.exists(name))) continue;
      try {
        await ip(["netns", "del", name]);
      } catch (error) {
        errors.push(String(error));
      }
    }
    return errors;
  }

  async exists(name: string): Promise<boolean> {
    const { stdout } = await run("ip", ["netns", "list"], { timeout: 30_000 });
    return stdout.split("\n").some((line) => line.split(" ")[0] === name);
  }
}
