import { DEFAULT_LISTEN_ADDRESS, parseHostPort, profilePaths, resolveHome, type ProfilePaths } from "@jarvis/core";
import { parseIpcAddress, type IpcAddress } from "@jarvis/rpc";

export interface SessionConfig {
  paths: ProfilePaths;
  ipc: IpcAddress;
  networkIpc: IpcAddress;
  listen: string;
  advertise: string;
  logLevel: string;
}

/** Reads JARVIS_* variables (set by the supervisor); fails fast with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv): SessionConfig {
  const home = resolveHome(undefined, env);
  const paths = profilePaths(home);
  const listen = env.JARVIS_LISTEN ?? DEFAULT_LISTEN_ADDRESS;
  parseHostPort(listen, { allowZeroPort: true });
  const advertise = env.JARVIS_ADVERTISE ?? "";
  if (advertise) parseHostPort(advertise);
  return Object.freeze({
    paths,
    ipc: parseIpcAddress(env.JARVIS_SESSION_IPC ?? `unix:${paths.sessionSocket}`),
    networkIpc: parseIpcAddress(env.JARVIS_NETWORK_IPC ?? `unix:${paths.networkSocket}`),
    listen,
    advertise,
    logLevel: env.JARVIS_LOG_LEVEL ?? "info",
  });
}
