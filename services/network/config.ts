import { DEFAULT_LISTEN_ADDRESS, DEFAULT_RECONNECT_BACKOFF, InvalidArgumentError, parseHostPort, profilePaths, resolveHome, type BackoffPolicy } from "@jarvis/core";
import { parseIpcAddress, type IpcAddress } from "@jarvis/rpc";
import { DEFAULT_TIMEOUTS, type ChannelTimeouts } from "./src/constants.js";

export interface NetworkConfig {
  home: string;
  ipc: IpcAddress;
  /** Peer listener used when Configure does not name one. */
  listen: string;
  logLevel: string;
  timeouts: ChannelTimeouts;
  backoff: BackoffPolicy;
}

/** Reads JARVIS_* variables (set by the supervisor); fails fast with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv): NetworkConfig {
  const home = resolveHome(undefined, env);
  const ipc = parseIpcAddress(env.JARVIS_NETWORK_IPC ?? `unix:${profilePaths(home).networkSocket}`);
  const listen = env.JARVIS_LISTEN ?? DEFAULT_LISTEN_ADDRESS;
  parseHostPort(listen, { allowZeroPort: true });
  const ms = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a positive integer (milliseconds)`);
    return value;
  };
  return Object.freeze({
    home,
    ipc,
    listen,
    logLevel: env.JARVIS_LOG_LEVEL ?? "info",
    timeouts: {
      connectMs: ms("JARVIS_CONNECT_TIMEOUT_MS", DEFAULT_TIMEOUTS.connectMs),
      handshakeMs: ms("JARVIS_HANDSHAKE_TIMEOUT_MS", DEFAULT_TIMEOUTS.handshakeMs),
      keepaliveIntervalMs: ms("JARVIS_KEEPALIVE_MS", DEFAULT_TIMEOUTS.keepaliveIntervalMs),
      idleTimeoutMs: ms("JARVIS_IDLE_TIMEOUT_MS", DEFAULT_TIMEOUTS.idleTimeoutMs),
    },
    backoff: {
      baseMs: ms("JARVIS_BACKOFF_BASE_MS", DEFAULT_RECONNECT_BACKOFF.baseMs),
      factor: DEFAULT_RECONNECT_BACKOFF.factor,
      capMs: ms("JARVIS_BACKOFF_CAP_MS", DEFAULT_RECONNECT_BACKOFF.capMs),
    },
  });
}
