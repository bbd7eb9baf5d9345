import { parseArgs as parseWithSpec, type ParseArgsConfig } from "node:util";
import { GLOBAL_OPTIONS, OPTIONS, VALUE_OPTIONS, type OptionName, type OptionSpec } from "./options.js";

/**
 * Turns argv into what to do, with node:util parseArgs and one option spec per command: each
 * command accepts only its own options (plus --home and --help) and its own number of
 * arguments. Anything else is a UsageError (exit 2), so typos never pass silently.
 */
export class UsageError extends Error {
  /** The help to point at, e.g. "jarvis send --help"; by default the running command's. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** What the parser needs to know about a command (a slice of CommandSpec). */
export interface CommandShape {
  name: string;
  options: OptionName[];
  min: number;
  max: number;
}

export type Invocation<C extends CommandShape> =
  | { kind: "program"; args: ParsedArgs }
  | { kind: "command"; command: C; args: ParsedArgs }
  | { kind: "program-help" }
  | { kind: "command-help"; command: C }
  | { kind: "group-help"; group: string }
  | { kind: "version" };

export function parseCommandLine<C extends CommandShape>(argv: string[], commands: C[], programOptions: OptionName[]): Invocation<C> {
  const at = firstPositional(argv);
  const leading = argv.slice(0, at);
  let word = argv[at];
  if (word === "help") return helpFor(argv.slice(at + 1).filter((a) => !a.startsWith("-")), commands);
  if (word === undefined) {
    const args = parseFor(leading, programOptions, false, "jarvis --help");
    if (args.flags.has("help")) return { kind: "program-help" };
    if (args.flags.has("version")) return { kind: "version" };
    return { kind: "program", args };
  }
  let rest = argv.slice(at + 1);
  if (isGroup(word, commands)) {
    const sub = rest[0];
    if (sub === undefined || sub.startsWith("-")) {
      // `jarvis contact` (with or without --help) lists what `contact` can do.
      parseFor([...leading, ...rest], [], false, `jarvis ${word} --help`);
      return { kind: "group-help", group: word };
    }
    if (!commands.some((c) => c.name === `${word} ${sub}`)) throw new UsageError(`unknown ${word} command "${sub}"`, `jarvis ${word} --help`);
    word = `${word} ${sub}`;
    rest = rest.slice(1);
  }
  const command = commands.find((c) => c.name === word);
  if (!command) throw new UsageError(`unknown command "${word}"`);
  const hint = `jarvis ${command.name} --help`;
  const args = parseFor([...leading, ...rest], command.options, command.max > 0, hint);
  if (args.flags.has("help")) return { kind: "command-help", command };
  const count = args.positionals.length;
  if (count < command.min) throw new UsageError(`missing arguments for "jarvis ${command.name}"`, hint);
  if (count > command.max) throw new UsageError(`unexpected argument "${args.positionals[command.max] ?? ""}" for "jarvis ${command.name}"`, hint);
  return { kind: "command", command, args };
}

export function flagValue(args: ParsedArgs, name: OptionName): string | undefined {
  const value = args.flags.get(name);
  return typeof value === "string" ? value : undefined;
}

/** Where the command word is: the first argument that is neither an option nor its value. */
function firstPositional(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--" || !arg.startsWith("-") || arg === "-") return arg === "--" ? argv.length : i;
    if (arg.startsWith("--") && !arg.includes("=") && VALUE_OPTIONS.has(arg.slice(2))) i++;
  }
  return argv.length;
}

function isGroup(word: string, commands: CommandShape[]): boolean {
  return commands.some((c) => c.name.startsWith(`${word} `));
}

function helpFor<C extends CommandShape>(words: string[], commands: C[]): Invocation<C> {
  if (words.length === 0) return { kind: "program-help" };
  const name = words.slice(0, 2).join(" ");
  const command = commands.find((c) => c.name === name) ?? commands.find((c) => c.name === words[0]);
  if (command) return { kind: "command-help", command };
  if (isGroup(words[0] as string, commands)) return { kind: "group-help", group: words[0] as string };
  throw new UsageError(`no help for "${words.join(" ")}": unknown command`);
}

function parseFor(argv: string[], names: OptionName[], allowPositionals: boolean, hint: string): ParsedArgs {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const name of new Set([...GLOBAL_OPTIONS, ...names])) {
    const spec: OptionSpec = OPTIONS[name];
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  }
  let parsed: ReturnType<typeof parseWithSpec>;
  try {
    parsed = parseWithSpec({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError(error), hint);
  }
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === "string") flags.set(name, value);
    else if (value === true) flags.set(name, true);
  }
  return { positionals: parsed.positionals, flags };
}

/** node:util's messages run to several sentences; a person needs the first fact. */
function describeParseError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument "${quoted}"`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const option = quoted.split(" ")[0] ?? quoted;
      if (message.includes("does not take")) return `${option} takes no value`;
      return `${option} needs a value`;
    }
    default:
      return (message.split("\n")[0] ?? message).replace(/\.$/, "");
  }
}
