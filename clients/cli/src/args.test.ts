import { describe, expect, it } from "vitest";
import { parseCommandLine, UsageError, type Invocation } from "./args.js";
import { COMMANDS, PROGRAM_OPTIONS, type CommandSpec } from "./command-table.js";
import { commandHelp, groupHelp, programHelp } from "./help.js";
import { OPTIONS } from "./options.js";

const parse = (...argv: string[]) => parseCommandLine(argv, COMMANDS, PROGRAM_OPTIONS);

function command(invocation: Invocation<CommandSpec>) {
  if (invocation.kind !== "command") throw new Error(`expected a command, got ${invocation.kind}`);
  return { name: invocation.command.name, positionals: invocation.args.positionals, flags: Object.fromEntries(invocation.args.flags) };
}

function usageError(argv: string[]): UsageError {
  try {
    parse(...argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
}

describe("command line parsing", () => {
  it("finds one- and two-word commands with their arguments and options", () => {
    expect(command(parse("send", "bob", "hello", "there", "--json"))).toEqual({ name: "send", positionals: ["bob", "hello", "there"], flags: { json: true } });
    expect(command(parse("contact", "add", "jarvis://x", "--alias=al"))).toEqual({ name: "contact add", positionals: ["jarvis://x"], flags: { alias: "al" } });
    expect(command(parse("history", "bob", "--limit", "5"))).toEqual({ name: "history", positionals: ["bob"], flags: { limit: "5" } });
  });

  it("takes --home before or after the command", () => {
    expect(command(parse("--home", "/h", "status"))).toMatchObject({ name: "status", flags: { home: "/h" } });
    expect(command(parse("--home=/h", "send", "bob", "hi"))).toMatchObject({ name: "send", positionals: ["bob", "hi"], flags: { home: "/h" } });
    expect(command(parse("status", "--home", "/h"))).toMatchObject({ name: "status", flags: { home: "/h" } });
  });

  it("passes text that looks like an option after --", () => {
    expect(command(parse("send", "bob", "--", "--not-an-option"))).toMatchObject({ positionals: ["bob", "--not-an-option"] });
  });

  it("rejects an option the command does not take, even one another command takes", () => {
    expect(usageError(["send", "bob", "hi", "--bogus"]).message).toBe("unknown option --bogus");
    expect(usageError(["status", "--limit", "3"]).message).toBe("unknown option --limit");
    expect(usageError(["--listen", "127.0.0.1:0", "status"]).hint).toBe("jarvis status --help");
  });

  it("rejects extra and missing positional arguments", () => {
    expect(usageError(["status", "now"]).message).toBe('unexpected argument "now"');
    expect(usageError(["history", "bob", "alice"]).message).toBe('unexpected argument "alice" for "jarvis history"');
    expect(usageError(["send", "bob"]).message).toBe('missing arguments for "jarvis send"');
    expect(usageError(["contact", "alias", "bob"]).hint).toBe("jarvis contact alias --help");
  });

  it("rejects a missing option value and a value for a switch", () => {
    expect(usageError(["init", "--name"]).message).toBe("--name needs a value");
    expect(usageError(["status", "--json=yes"]).message).toBe("--json takes no value");
  });

  it("rejects unknown commands and subcommands", () => {
    expect(usageError(["frobnicate"]).message).toBe('unknown command "frobnicate"');
    const sub = usageError(["contact", "frobnicate"]);
    expect(sub.message).toBe('unknown contact command "frobnicate"');
    expect(sub.hint).toBe("jarvis contact --help");
  });

  it("opens the TUI with no command, taking only the program's options", () => {
    const tui = parse("--home", "/h", "--listen", "127.0.0.1:0");
    expect(tui.kind).toBe("program");
    expect(usageError(["--json"]).message).toBe("unknown option --json");
  });

  it("answers --version and every form of help", () => {
    expect(parse("--version").kind).toBe("version");
    expect(parse().kind).toBe("program");
    expect(parse("--help").kind).toBe("program-help");
    expect(parse("-h").kind).toBe("program-help");
    expect(parse("help").kind).toBe("program-help");
    expect(parse("send", "--help")).toMatchObject({ kind: "command-help", command: { name: "send" } });
    expect(parse("contact", "add", "-h")).toMatchObject({ kind: "command-help", command: { name: "contact add" } });
    expect(parse("help", "group", "send")).toMatchObject({ kind: "command-help", command: { name: "group send" } });
    expect(parse("contact")).toEqual({ kind: "group-help", group: "contact" });
    expect(parse("account", "--help")).toEqual({ kind: "group-help", group: "account" });
  });
});

describe("help text", () => {
  it("lists every visible command and no hidden one in the program help", () => {
    const text = programHelp(COMMANDS, PROGRAM_OPTIONS);
    for (const c of COMMANDS.filter((c) => !c.hidden)) expect(text).toContain(`jarvis ${c.name}`);
    expect(text).not.toContain("jarvis daemon");
  });

  it("shows each command's own options and only those", () => {
    for (const spec of COMMANDS) {
      const text = commandHelp(spec);
      expect(text.split("\n")[0]).toContain(`usage: jarvis ${spec.name}`);
      for (const name of Object.keys(OPTIONS)) {
        const offered = new RegExp(`--${name}\\b`).test(text);
        expect(offered, `${spec.name} --${name}`).toBe(spec.options.includes(name as never) || name === "home" || name === "help");
      }
    }
  });

  it("lists a group's subcommands", () => {
    const text = groupHelp("group", COMMANDS);
    expect(text).toMatch(/jarvis group create NAME MEMBER\.\.\./);
    expect(text).toMatch(/jarvis group leave GROUP/);
    expect(text).not.toMatch(/jarvis contact/);
  });
});
