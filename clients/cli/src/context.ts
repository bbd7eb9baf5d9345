import type { ProfilePaths } from "@jarvis/core";
import type { ParsedArgs } from "./args.js";

export interface CommandContext {
  paths: ProfilePaths;
  args: ParsedArgs;
  /** Positionals after the command word(s). */
  params: string[];
  json: boolean;
  out(line: string): void;
  err(line: string): void;
  signal: AbortSignal;
}

export type Command = (ctx: CommandContext) => Promise<number>;
