import { existsSync } from "node:fs";
import { connect } from "node:net";
import type { IpcAddress } from "@jarvis/rpc";

const PROBE_TIMEOUT_MS = 1_000;

/**
 * Before the supervisor starts anything: is someone already listening where a service is to
 * listen? It connects, it does not bind: nothing is bound, closed and hoped to stay free. A
 * "yes" is certain and fails the start at once, naming the address (instead of after the
 * network service has started and the session has failed to bind, ~2 s later). A "no" is only
 * a hint: the service's own bind stays the authority, and a port taken in the meantime (or
 * bound without listening) still fails the start, just later.
 */
export async function ipcInUse(address: IpcAddress): Promise<string | undefined> {
  if (address.kind === "tcp" && address.port === 0) return undefined;
  if (address.kind === "unix" && !existsSync(address.path)) return undefined;
  if (!(await answers(address))) return undefined;
  return address.kind === "tcp" ? `port ${address.port} is already in use` : "another process already listens there";
}

function answers(address: IpcAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = address.kind === "unix" ? connect(address.path) : connect(address.port, address.host);
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    // A host that drops packets (not ours to listen on anyway) must not stall the start.
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
