import type { CommandSpec } from "./command-table.js";
import { GLOBAL_OPTIONS, OPTIONS, type OptionName, type OptionSpec } from "./options.js";

/** Help text, rendered from the command table so it always matches what the parser accepts. */

const FOOTER = `Password: --password-file FILE, JARVIS_PASSWORD, or a prompt. Profile: --home DIR, JARVIS_HOME or ~/.jarvis.
Exit codes: 0 ok, 1 error (one line on stderr), 2 bad usage.`;

export function programHelp(commands: CommandSpec[], programOptions: OptionName[]): string {
  const rows = commands.filter((c) => !c.hidden).map((c) => [synopsis(c), c.summary] as const);
  return [
    "usage: jarvis [--home DIR] COMMAND [options]",
    "       jarvis [--home DIR] [--listen HOST:PORT]   open the TUI (starts the node if needed)",
    "",
    "Commands:",
    ...table(rows),
    "",
    "Options:",
    ...optionRows([...GLOBAL_OPTIONS, ...programOptions]),
    "",
    "Run `jarvis COMMAND --help` for a command's options.",
    FOOTER,
  ].join("\n");
}

export function commandHelp(command: CommandSpec): string {
  return [`usage: ${synopsis(command)}${command.options.length > 0 ? " [options]" : ""}`, "", command.summary, "", "Options:", ...optionRows([...command.options, ...GLOBAL_OPTIONS])].join("\n");
}

export function groupHelp(group: string, commands: CommandSpec[]): string {
  const members = commands.filter((c) => c.name.startsWith(`${group} `));
  return [`usage: jarvis ${group} COMMAND ...`, "", "Commands:", ...table(members.map((c) => [synopsis(c), c.summary] as const)), "", `Run \`jarvis ${group} COMMAND --help\` for details.`].join("\n");
}

function synopsis(command: CommandSpec): string {
  return `jarvis ${command.name}${command.args ? ` ${command.args}` : ""}`;
}

function optionRows(names: OptionName[]): string[] {
  return table(
    [...new Set(names)].map((name) => {
      const spec: OptionSpec = OPTIONS[name];
      const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
      return [flag, spec.help] as const;
    }),
  );
}

function table(rows: (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
