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
    return { kind: "tcp", host, port };
  }
  throw new InvalidArgumentError(`bad IPC address "${value}": expected unix:/path or tcp://host:port`);
}

export function formatIpcAddress(address: IpcAddress): string {
  return address.kind === "unix" ? `unix:${address.path}` : `tcp://${formatHostPort(address)}`;
}
