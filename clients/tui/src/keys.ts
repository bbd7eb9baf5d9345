/** Every key, once: the footer shows the short forms, the help screen all of them. */
export const KEYS: { keys: string; short?: string; action: string }[] = [
  { keys: "Tab / S-Tab", short: "Tab pane", action: "switch between the conversation list and the input line" },
  { keys: "Up / Down, Enter", action: "pick a conversation in the list, open it" },
  { keys: "Enter", action: "send the input line (a pasted newline stays in the message)" },
  { keys: "PgUp / PgDn", action: "scroll the conversation (older pages load as you go)" },
  { keys: "Home / End", action: "oldest loaded / newest message" },
  { keys: "Ctrl-A", short: "^A add", action: "add a contact (link code or .jcard path)" },
  { keys: "Ctrl-N", short: "^N code", action: "show my link code, write my card to a file" },
  { keys: "Ctrl-G", short: "^G group", action: "new group" },
  { keys: "Ctrl-D", short: "^D info", action: "details of the open contact or group" },
  { keys: "Ctrl-S", short: "^S set", action: "settings" },
  { keys: "Ctrl-P", action: "peer health (network statistics)" },
  { keys: "Ctrl-L", short: "^L lock", action: "lock: hides everything until the password is typed" },
  { keys: "F1 or ? (in the list)", short: "F1 help", action: "this help" },
  { keys: "Esc", action: "close a window" },
  { keys: "Ctrl-Q / Ctrl-C", short: "^Q quit", action: "quit (works everywhere, also on the lock screen)" },
];

export const FOOTER = KEYS.filter((k) => k.short).map((k) => k.short).join("  ");
