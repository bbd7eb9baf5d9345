import { existsSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";
import { NetworkService } from "@jarvis/proto/jarvis/network/v1/network_service";
import { portOf } from "../helpers/network.js";
import type { TestNode } from "../helpers/cli.js";
import { childPid } from "../running/processes.js";

export { isAlive } from "../running/processes.js";

/**
 * Watching the real service processes of a node under hostile input: their pids (a restart
 * would hide a crash), their memory from /proc, and the network service's own counters.
 */
export interface ServicePids {
  network: number;
  session: number;
}

export function servicePids(node: TestNode): ServicePids {
  const network = childPid(node, "network");
  const session = childPid(node, "session");
  if (!network || !session) throw new Error(`${node.name}: services not running`);
  return { network, session };
}


/** Resident memory now and at its peak (VmHWM, kept by the kernel), in MiB. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

/** The node's network service over its own IPC socket (a Unix socket needs no token). */
export function networkClient(node: TestNode): Client<typeof NetworkService> {
  const ipc = JSON.parse(readFileSync(join(node.home, "run", "ipc.json"), "utf8")) as { network: string };
  const address = parseIpcAddress(ipc.network);
  const tokenFile = join(node.home, "run", "token");
  const token = address.kind === "tcp" && existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : undefined;
  return createClient(NetworkService, createIpcTransport(address, { token }));
}

/** The network service's refusal counters. */
export async function refusals(node: TestNode): Promise<{ protocolErrors: number; rejectedPeers: number; handshakeTimeouts: number }> {
  const status = await networkClient(node).getStatus({});
  return { protocolErrors: Number(status.protocolErrors), rejectedPeers: Number(status.rejectedPeers), handshakeTimeouts: Number(status.handshakeTimeouts) };
}

/**
 * One connection from `localAddress` (any of 127.0.0.0/8): writes the bytes, half-closes, and
 * resolves when the listener has closed it. Fails if it is still open after `boundMs`: a
 * listener that keeps a refused connection is a finding.
 */
export function sendAndClose(address: string, bytes: Buffer, localAddress: string, boundMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: portOf(address), localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the listener kept a connection open for ${boundMs} ms (input of ${bytes.length} bytes)`));
    }, boundMs);
    socket.on("error", () => undefined); // resets are a normal outcome here
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume(); // read and ignore the listener's answer
    socket.once("connect", () => socket.end(bytes));
  });
}

/** Runs `count` jobs on `concurrency` workers; job i gets its index. */
export async function runPool(count: number, concurrency: number, job: (index: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) await job(next++, worker);
    }),
  );
}

/** Opens `count` sockets from `localAddress`, each writing its first bytes and then going silent. */
export async function openHeld(address: string, localAddress: string, count: number, first: (i: number) => Buffer): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: portOf(address), localAddress });
        socket.once("error", (error) => (socket.connecting ? reject(error) : undefined));
        socket.on("error", () => undefined);
        socket.once("connect", () => {
          socket.write(first(i));
          resolve(socket);
        });
      }),
    ),
  );
}
