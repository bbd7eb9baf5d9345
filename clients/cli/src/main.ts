import { DEFAULT_LISTEN_ADDRESS, profilePaths, resolveHome } from "@jarvis/core";
import { flagValue, parseArgs, UsageError } from "./args.js";
import { CliError, describeError } from "./cli-error.js";
import type { Command, CommandContext } from "./context.js";
import { runDaemon } from "./daemon.js";
import { ensureDaemon } from "./connection.js";
import { startOptions } from "./commands/lifecycle.js";
import * as lifecycle from "./commands/lifecycle.js";
import * as contacts from "./commands/contacts.js";
import * as messages from "./commands/messages.js";
import * as groups from "./commands/groups.js";

const USAGE = `usage: jarvis [--home DIR] COMMAND [options]

  jarvis                          open the TUI (starts the daemon if needed)
  init --name NAME                create an identity (starts and unlocks the node)
  up [--listen H:P] [--advertise H:P] [--ipc tcp://127.0.0.1:PORT]
                                  start the node in the background and unlock it
  unlock | lock | down            unlock, lock or stop the node
  status [--json]                 daemon, identity, listener, peers
  link                            print my link code
  card export FILE                write my contact card (.jcard)
  contact add CODE|FILE [--alias A]   add a contact from a link code or card
  contacts [--json]               list contacts
  contact remove|verify|alias CONTACT [ALIAS]
  contact receipts CONTACT on|off send read receipts to this contact or not
  safety CONTACT                  the safety number to compare out of band
  send CONTACT TEXT               send a message
  history CONTACT|GROUP [--json] [--limit N]
  read CONTACT|GROUP              mark a conversation read
  watch [--json] [--after CURSOR] print the event stream
  group create NAME MEMBER... | group send GROUP TEXT | group add GROUP MEMBER...
  group leave GROUP | group delete GROUP | groups [--json]
  passwd                          change the password (new one from --new-password-file or JARVIS_NEW_PASSWORD)
  account export FILE | account import FILE
  delete --yes                    delete the identity and all its data

Password: --password-file FILE, JARVIS_PASSWORD, or a prompt. Profile: --home, JARVIS_HOME or ~/.jarvis.
Exit codes: 0 ok, 1 error (one line on stderr), 2 bad usage.`;

const COMMANDS: Record<string, Command> = {
  init: lifecycle.init,
  up: lifecycle.up,
  unlock: lifecycle.unlock,
  lock: lifecycle.lock,
  down: lifecycle.down,
  status: lifecycle.status,
  passwd: lifecycle.passwd,
  delete: lifecycle.deleteIdentity,
  "account export": lifecycle.accountExport,
  "account import": lifecycle.accountImport,
  link: contacts.link,
  "card export": contacts.cardExport,
  "contact add": contacts.contactAdd,
  "contact remove": contacts.contactRemove,
  "contact alias": contacts.contactAlias,
  "contact verify": contacts.contactVerify,
  "contact receipts": contacts.contactReceipts,
  contacts: contacts.contacts,
  safety: contacts.safety,
  send: messages.send,
  history: messages.history,
  read: messages.read,
  watch: messages.watch,
  "group create": groups.groupCreate,
  "group send": groups.groupSend,
  "group add": groups.groupAdd,
  "group leave": groups.groupLeave,
  "group delete": groups.groupDelete,
  groups: groups.groups,
};

const VALUE_FLAGS = ["home", "password-file", "new-password-file", "name", "listen", "advertise", "ipc", "log-level", "after", "limit", "alias"];
const BOOLEAN_FLAGS = ["json", "help", "yes", "no"];

export async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(line + "\n");
  const err = (line: string) => process.stderr.write(line + "\n");
  try {
    const args = parseArgs(argv, { values: VALUE_FLAGS, booleans: BOOLEAN_FLAGS });
    if (args.flags.has("help") || args.positionals[0] === "help") {
      out(USAGE);
      return 0;
    }
    const home = resolveHome(flagValue(args, "home"), process.env);
    const [first, second] = args.positionals;
    if (first === "daemon") {
      return await runDaemon({
        home,
        listen: flagValue(args, "listen") ?? DEFAULT_LISTEN_ADDRESS,
        advertise: flagValue(args, "advertise") ?? "",
        ipc: flagValue(args, "ipc"),
        logLevel: flagValue(args, "log-level") ?? "info",
      });
    }
    if (first === undefined) {
      const { runTui } = await import("@jarvis/tui");
      const paths = profilePaths(home);
      const options = startOptions({ paths, args, params: [], json: false, out, err, signal: new AbortController().signal });
      return await runTui({ connect: async () => (await ensureDaemon(paths, options)).client });
    }
    const twoWord = second !== undefined ? `${first} ${second}` : "";
    const name = twoWord in COMMANDS ? twoWord : first;
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command "${first}"; see jarvis --help`);
    const abort = new AbortController();
    // The first signal lets a command finish cleanly (watch ends its stream); if it does not
    // stop promptly, exit anyway so a hung call can never make the command unkillable.
    const onSignal = () => {
      abort.abort();
      setTimeout(() => process.exit(130), 2_000).unref();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const ctx: CommandContext = {
      paths: profilePaths(home),
      args,
      params: args.positionals.slice(name.split(" ").length),
      json: args.flags.has("json"),
      out,
      err,
      signal: abort.signal,
    };
    try {
      return await command(ctx);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      err(`jarvis: ${error.message}`);
      return 2;
    }
    err(`jarvis: ${describeError(error)}`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
