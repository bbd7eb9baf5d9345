/**
 * Every option the `jarvis` command knows, defined once. Each command lists the ones it
 * accepts (command-table.ts); anything else is a usage error for that command.
 */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder for the value in help text (string options). */
  value?: string;
  help: string;
}

export const OPTIONS = {
  home: { type: "string", value: "DIR", help: "profile directory (default: JARVIS_HOME or ~/.jarvis)" },
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", help: "print the version" },
  json: { type: "boolean", help: "machine-readable output (stable, see the README)" },
  "password-file": { type: "string", value: "FILE", help: "read the password from FILE (else JARVIS_PASSWORD, else a prompt)" },
  "new-password-file": { type: "string", value: "FILE", help: "read the new password from FILE (else JARVIS_NEW_PASSWORD)" },
  name: { type: "string", value: "NAME", help: "your display name" },
  listen: { type: "string", value: "HOST:PORT", help: "where to listen for peers (remembered in the profile)" },
  advertise: { type: "string", value: "HOST:PORT", help: "the address put on your link code and card" },
  ipc: { type: "string", value: "ADDR", help: "local API address: unix:/path or tcp://127.0.0.1:PORT" },
  "log-level": { type: "string", value: "LEVEL", help: "log level: debug, info, warn, error" },
  "network-ipc": { type: "string", value: "ADDR", help: "daemon: supervise only the session, against the network service already at ADDR" },
  after: { type: "string", value: "CURSOR", help: "watch: replay events after this cursor, then follow; history: messages after this position" },
  before: { type: "string", value: "CURSOR", help: "history: messages before this position (page back with the first position shown)" },
  all: { type: "boolean", help: "history: every message in the range, oldest first, not one page" },
  limit: { type: "string", value: "N", help: "how many messages (1-1000, default 50; with --all, the page size)" },
  alias: { type: "string", value: "NAME", help: "your own name for the contact" },
  yes: { type: "boolean", help: "confirm" },
  no: { type: "boolean", help: "mark unverified instead" },
} satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionName[] = ["home", "help"];

/** The options that take a value, wherever they appear (to find the command word). */
export const VALUE_OPTIONS = new Set(Object.entries(OPTIONS as Record<string, OptionSpec>).filter(([, spec]) => spec.type === "string").map(([name]) => name));
