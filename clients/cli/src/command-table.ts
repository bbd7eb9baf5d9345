import { flagValue } from "./args.js";
import type { Command } from "./context.js";
import type { OptionName } from "./options.js";
import { runDaemon } from "./daemon.js";
import { checkStartOptions, parseNetworkIpc } from "./node-settings.js";
import { envLayer, resolveSettings } from "./start-config.js";
import * as lifecycle from "./commands/lifecycle.js";
import { status } from "./commands/status.js";
import * as contacts from "./commands/contacts.js";
import * as messages from "./commands/messages.js";
import * as groups from "./commands/groups.js";

/**
 * One entry per command: its words, arguments, options and handler. The parser, the help text
 * and the dispatcher all read this table, so they cannot disagree.
 */
export interface CommandSpec {
  /** One word ("send") or a group and a subcommand ("contact add"). */
  name: string;
  /** The positional arguments as shown in help, e.g. "CONTACT TEXT...". */
  args: string;
  summary: string;
  options: OptionName[];
  /** How many positionals it takes; max Infinity for a trailing list. */
  min: number;
  max: number;
  run: Command;
  /** Not listed in the program help (the supervisor is started by `jarvis up`). */
  hidden?: boolean;
  /** Installs its own signal handling (the supervisor). */
  ownsSignals?: boolean;
}

const START: OptionName[] = ["listen", "advertise", "ipc", "log-level"];
const many = Infinity;

export const COMMANDS: CommandSpec[] = [
  { name: "init", args: "[NAME]", summary: "create an identity (starts and unlocks the node)", options: ["name", "password-file", ...START, "json"], min: 0, max: 1, run: lifecycle.init },
  { name: "up", args: "", summary: "start the node in the background and unlock it", options: ["password-file", ...START, "json"], min: 0, max: 0, run: lifecycle.up },
  { name: "unlock", args: "", summary: "unlock the node", options: ["password-file"], min: 0, max: 0, run: lifecycle.unlock },
  { name: "lock", args: "", summary: "lock the node (keys leave memory)", options: [], min: 0, max: 0, run: lifecycle.lock },
  { name: "down", args: "", summary: "stop the node", options: [], min: 0, max: 0, run: lifecycle.down },
  { name: "status", args: "", summary: "daemon, identity, listener, peers", options: ["json"], min: 0, max: 0, run: status },
  { name: "link", args: "", summary: "print my link code", options: ["json"], min: 0, max: 0, run: contacts.link },
  { name: "card export", args: "FILE", summary: "write my contact card (.jcard)", options: [], min: 1, max: 1, run: contacts.cardExport },
  { name: "contact add", args: "CODE|FILE", summary: "add a contact from a link code or a .jcard file", options: ["alias", "json"], min: 1, max: 1, run: contacts.contactAdd },
  { name: "contact remove", args: "CONTACT", summary: "remove a contact", options: [], min: 1, max: 1, run: contacts.contactRemove },
  { name: "contact alias", args: "CONTACT ALIAS", summary: "set your own name for a contact", options: ["json"], min: 2, max: 2, run: contacts.contactAlias },
  { name: "contact verify", args: "CONTACT", summary: "mark a contact verified (after comparing safety numbers)", options: ["no"], min: 1, max: 1, run: contacts.contactVerify },
  { name: "contact receipts", args: "CONTACT on|off", summary: "send read receipts to this contact or not", options: [], min: 2, max: 2, run: contacts.contactReceipts },
  { name: "contacts", args: "", summary: "list contacts", options: ["json"], min: 0, max: 0, run: contacts.contacts },
  { name: "safety", args: "CONTACT", summary: "the safety number to compare out of band", options: ["json"], min: 1, max: 1, run: contacts.safety },
  { name: "send", args: "CONTACT|GROUP TEXT...", summary: "send a message", options: ["json"], min: 2, max: many, run: messages.send },
  { name: "history", args: "CONTACT|GROUP", summary: "show a conversation", options: ["json", "limit", "before", "after", "all"], min: 1, max: 1, run: messages.history },
  { name: "read", args: "CONTACT|GROUP", summary: "mark a conversation read", options: ["json"], min: 1, max: 1, run: messages.read },
  { name: "watch", args: "", summary: "print the event stream", options: ["json", "after"], min: 0, max: 0, run: messages.watch },
  { name: "group create", args: "NAME MEMBER...", summary: "create a group (prints its id)", options: ["json"], min: 1, max: many, run: groups.groupCreate },
  { name: "group send", args: "GROUP TEXT...", summary: "send a message to a group", options: ["json"], min: 2, max: many, run: groups.groupSend },
  { name: "group add", args: "GROUP MEMBER...", summary: "add members to a group", options: [], min: 2, max: many, run: groups.groupAdd },
  { name: "group admin", args: "GROUP CONTACT", summary: "make a member an admin (admins only)", options: [], min: 2, max: 2, run: groups.groupAdmin },
  { name: "group remove", args: "GROUP CONTACT", summary: "remove a member (admins only)", options: [], min: 2, max: 2, run: groups.groupRemove },
  { name: "group leave", args: "GROUP", summary: "leave a group", options: [], min: 1, max: 1, run: groups.groupLeave },
  { name: "group delete", args: "GROUP", summary: "delete a group here", options: [], min: 1, max: 1, run: groups.groupDelete },
  { name: "groups", args: "", summary: "list groups", options: ["json"], min: 0, max: 0, run: groups.groups },
  { name: "passwd", args: "", summary: "change the password", options: ["password-file", "new-password-file"], min: 0, max: 0, run: lifecycle.passwd },
  { name: "account export", args: "FILE", summary: "write an encrypted backup of the account", options: ["password-file"], min: 1, max: 1, run: lifecycle.accountExport },
  { name: "account import", args: "FILE", summary: "restore an account backup into this profile", options: ["password-file", ...START], min: 1, max: 1, run: lifecycle.accountImport },
  { name: "delete", args: "", summary: "delete the identity and all its data", options: ["yes", "password-file"], min: 0, max: 0, run: lifecycle.deleteIdentity },
  {
    name: "daemon",
    args: "",
    summary: "run the supervisor in the foreground (what `jarvis up` starts)",
    options: [...START, "network-ipc"],
    min: 0,
    max: 0,
    hidden: true,
    ownsSignals: true,
    run: (ctx) => {
      // Flags, then JARVIS_* (a container sets those), then defaults; `up` passes flags.
      const flags = { listen: flagValue(ctx.args, "listen"), advertise: flagValue(ctx.args, "advertise"), ipc: flagValue(ctx.args, "ipc"), "log-level": flagValue(ctx.args, "log-level") };
      const { settings } = resolveSettings([flags, envLayer(process.env)]);
      checkStartOptions(settings);
      const networkIpc = flagValue(ctx.args, "network-ipc");
      return runDaemon({ home: ctx.paths.home, ...settings, externalNetwork: networkIpc === undefined ? undefined : parseNetworkIpc(networkIpc) });
    },
  },
];

/** The bare program (`jarvis` with no command) opens the TUI and takes the start options. */
export const PROGRAM_OPTIONS: OptionName[] = [...START, "version"];

/** Words that only introduce subcommands: `jarvis contact` alone lists them. */
export const GROUPS = [...new Set(COMMANDS.filter((c) => c.name.includes(" ")).map((c) => c.name.split(" ")[0] as string))];
