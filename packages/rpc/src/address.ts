import { isIPv4 } from "node:net";
import { formatHostPort, InvalidArgumentError, parseHostPort } from "@jarvis/core";

/** Where a local gRPC server listens: a Unix socket (default) or loopback TCP with a token. */
export type IpcAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** Parses "unix:/abs/path" or "tcp://host:port" (port 0 = any free port). */
export function parseIpcAddress(value: string): IpcAddress {
  if (value.startsWith("unix:")) {
    const path = value.slice("unix:".length).replace(/^\/\//, "");
    if (!path.startsWith("/")) throw new InvalidArgumentError(`bad IPC address "${value}": unix path must be absolute`);
    return { kind: "unix", path };
  }
  if (value.startsWith("tcp://")) {
    const { host, port } = parseHostPort(value.slice("tcp://".length), { allowZeroPort: true });
    if (!isLoopback(host)) {
      throw new InvalidArgumentError(`bad IPC address "${value}": TCP IPC must stay on this machine (127.x.x.x, ::1 or localhost)`, "ipc-not-loopback");
    }
    return { kind: "tcp", host, port };
  }
  throw new InvalidArgumentError(`bad IPC address "${value}": expected unix:/path or tcp://host:port`);
}

/**
 * The local API carries the bearer token and key material; on any other interface a remote
 * host could call it or sniff it. "localhost" is taken at its word (it resolves from /etc/hosts,
 * which only root can change).
 */
function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIPv4(host) && host.startsWith("127.");
}

export function formatIpcAddress(address: IpcAddress): string {
  return address.kind === "unix" ? `unix:${address.path}` : `tcp://${formatHostPort(address)}`;
}
