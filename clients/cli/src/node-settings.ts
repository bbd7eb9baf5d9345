import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDir, writeFileAtomic, type ProfilePaths } from "@jarvis/core";

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
