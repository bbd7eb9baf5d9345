import { createRequire } from "node:module";
import { profilePaths, resolveHome } from "@jarvis/core";
import { flagValue, parseCommandLine, UsageError } from "./args.js";
import { CliError, describeError } from "./cli-error.js";
import { COMMANDS, PROGRAM_OPTIONS, type CommandSpec } from "./command-table.js";
import type { CommandContext } from "./context.js";
import { ensureDaemon } from "./connection.js";
import { startOptions } from "./commands/lifecycle.js";
import { commandHelp, groupHelp, programHelp } from "./help.js";
import { endQuietlyOnClosedPipe } from "./pipe.js";
import type { ParsedArgs } from "./args.js";

export async function main(argv: string[]): Promise<number> {
  let running: CommandSpec | undefined;
  // `jarvis watch | head -1`: once the reader is gone there is nobody to tell; exit 0.
  endQuietlyOnClosedPipe(process.stdout);
  const out = (line: string) => process.stdout.write(line + "\n");
  const err = (line: string) => process.stderr.write(line + "\n");
  try {
    const invocation = parseCommandLine(argv, COMMANDS, PROGRAM_OPTIONS);
    switch (invocation.kind) {
      case "program-help":
        out(programHelp(COMMANDS, PROGRAM_OPTIONS));
        return 0;
      case "command-help":
        out(commandHelp(invocation.command));
        return 0;
      case "group-help":
        out(groupHelp(invocation.group, COMMANDS));
        return 0;
      case "version":
        out(packageVersion());
        return 0;
      case "program":
        return await openTui(contextFor(invocation.args, [], out, err, new AbortController().signal));
      case "command":
        running = invocation.command;
        return await runCommand(invocation.command, invocation.args, out, err);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const hint = error.hint ?? (running ? `jarvis ${running.name} --help` : "jarvis --help");
      err(`jarvis: ${error.message} (see \`${hint}\`)`);
      return 2;
    }
    err(`jarvis: ${describeError(error)}`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

async function runCommand(spec: CommandSpec, args: ParsedArgs, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const abort = new AbortController();
  const ctx = contextFor(args, args.positionals, out, err, abort.signal);
  if (spec.ownsSignals) return spec.run(ctx);
  // The first signal lets a command finish cleanly (watch ends its stream); if it does not
  // stop promptly, exit anyway so a hung call can never make the command unkillable.
  const onSignal = () => {
    abort.abort();
    setTimeout(() => process.exit(130), 2_000).unref();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await spec.run(ctx);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function openTui(ctx: CommandContext): Promise<number> {
  const { runTui } = await import("@jarvis/tui");
  const options = startOptions(ctx);
  return runTui({ connect: async () => (await ensureDaemon(ctx.paths, options)).client });
}

function contextFor(args: ParsedArgs, params: string[], out: (line: string) => void, err: (line: string) => void, signal: AbortSignal): CommandContext {
  const home = resolveHome(flagValue(args, "home"), process.env);
  return { paths: profilePaths(home), args, params, json: args.flags.has("json"), out, err, signal };
}

function packageVersion(): string {
  const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
  return pkg.version;
}
