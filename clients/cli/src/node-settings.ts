import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, InvalidArgumentError, parseHostPort, writeFileAtomic, type ProfilePaths } from "@jarvis/core";
import { parseIpcAddress, type IpcAddress } from "@jarvis/rpc";
import { UsageError } from "./args.js";

/** How this profile's node is started (listen/advertise/IPC), remembered in <home>/node.json. */
export interface NodeSettings {
  listen?: string;
  advertise?: string;
  ipc?: string;
}

const file = (paths: ProfilePaths) => join(paths.home, "node.json");

export function readNodeSettings(paths: ProfilePaths): NodeSettings {
  try {
    const raw = JSON.parse(readFileSync(file(paths), "utf8")) as Record<string, unknown>;
    const pick = (key: string) => (typeof raw[key] === "string" && raw[key] !== "" ? (raw[key] as string) : undefined);
    return { listen: pick("listen"), advertise: pick("advertise"), ipc: pick("ipc") };
  } catch {
    return {};
  }
}

export function writeNodeSettings(paths: ProfilePaths, settings: NodeSettings): void {
  ensurePrivateDir(paths.home);
  writeFileAtomic(file(paths), JSON.stringify(settings));
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * Checks start options before anything is remembered or started: a bad address would
 * otherwise be saved in node.json and make the daemon fail on every start, with the CLI
 * only noticing when its start timeout runs out.
 */
export function checkStartOptions(options: { listen: string; advertise: string; ipc: string | undefined; logLevel: string }): void {
  try {
    parseHostPort(options.listen, { allowZeroPort: true });
    if (options.advertise) parseHostPort(options.advertise);
    if (options.ipc) parseIpcAddress(options.ipc);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
  if (!LOG_LEVELS.includes(options.logLevel)) throw new UsageError(`bad log level "${options.logLevel}": expected one of ${LOG_LEVELS.join(", ")}`);
}

/** `jarvis daemon --network-ipc ADDR`: the external network service's address (usage error if bad). */
export function parseNetworkIpc(value: string): IpcAddress {
  try {
    const address = parseIpcAddress(value);
    if (address.kind === "tcp" && address.port === 0) throw new InvalidArgumentError("--network-ipc needs the port the network service listens on, not 0");
    return address;
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
}
