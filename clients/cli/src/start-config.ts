import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_LISTEN_ADDRESS, InvalidArgumentError, parseHostPort, type ProfilePaths } from "@jarvis/core";
import { parseIpcAddress } from "@jarvis/rpc";
import { CliError } from "./cli-error.js";

/**
 * Where a node's start settings come from, strongest first:
 *   1. flags (--listen, --advertise, --ipc, --log-level)
 *   2. JARVIS_* environment variables (JARVIS_LISTEN, JARVIS_ADVERTISE, JARVIS_IPC, JARVIS_LOG_LEVEL)
 *   3. what earlier flags left in <profile>/node.json (so `up` keeps the address on cards handed out)
 *   4. the <profile>/config file a person writes: `key = value` lines, `#` comments
 *   5. defaults
 * An empty environment variable counts as unset.
 */
export interface StartSettings {
  listen: string;
  advertise: string;
  ipc: string | undefined;
  logLevel: string;
}

export type SettingKey = "listen" | "advertise" | "ipc" | "log-level";
type Layer = Partial<Record<SettingKey, string>>;

const KEYS: SettingKey[] = ["listen", "advertise", "ipc", "log-level"];
const ENV: Record<SettingKey, string> = { listen: "JARVIS_LISTEN", advertise: "JARVIS_ADVERTISE", ipc: "JARVIS_IPC", "log-level": "JARVIS_LOG_LEVEL" };
const DEFAULTS: Record<SettingKey, string | undefined> = { listen: DEFAULT_LISTEN_ADDRESS, advertise: "", ipc: undefined, "log-level": "info" };

export function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const key of KEYS) if (env[ENV[key]]) layer[key] = env[ENV[key]];
  return layer;
}

/** The settings, and whether the peer listen address was chosen by someone (not the default). */
export function resolveSettings(layers: Layer[]): { settings: StartSettings; listenChosen: boolean } {
  const pick = (key: SettingKey) => layers.find((layer) => layer[key] !== undefined)?.[key] ?? DEFAULTS[key];
  return {
    settings: { listen: pick("listen") as string, advertise: pick("advertise") ?? "", ipc: pick("ipc"), logLevel: pick("log-level") as string },
    listenChosen: layers.some((layer) => layer.listen !== undefined),
  };
}

/** Reads <profile>/config; a line it does not understand is an error naming file and line. */
export function readConfigFile(paths: ProfilePaths): Layer {
  const file = join(paths.home, "config");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return {};
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): Layer {
  const layer: Layer = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const where = `${file}:${index + 1}`;
    const match = /^([a-z-]+)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new CliError(`${where}: expected "key = value", got "${line.slice(0, 60)}"`);
    const key = match[1] as SettingKey;
    const value = (match[2] as string).trim();
    if (!KEYS.includes(key)) throw new CliError(`${where}: unknown setting "${key}" (known: ${KEYS.join(", ")})`);
    try {
      if (key === "listen") parseHostPort(value, { allowZeroPort: true });
      if (key === "advertise" && value) parseHostPort(value);
      if (key === "ipc") parseIpcAddress(value);
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw new CliError(`${where}: ${error.message}`);
      throw error;
    }
    layer[key] = value;
  });
  return layer;
}
