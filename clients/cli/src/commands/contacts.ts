import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContactCardSchema, type ContactCard } from "@jarvis/proto/jarvis/peer/v1/card";
import { formatFingerprint } from "@jarvis/core";

import { flagValue } from "../args.js";
import { CliError } from "../cli-error.js";
import { connectSession } from "../connection.js";
import { contactJson, presenceName, printable, safeJson } from "../format.js";
import type { CommandContext } from "../context.js";

const MAX_CARD_FILE = 4096;

export async function link(ctx: CommandContext): Promise<number> {
  const client = await connectSession(ctx.paths);
  const { identity } = await client.getIdentity({});
  ctx.out(ctx.json ? safeJson({ linkCode: identity?.linkCode, uid: identity?.uid }) : (identity?.linkCode ?? ""));
  return 0;
}

/** `jarvis card export FILE`: writes our card as a .jcard file. */
export async function cardExport(ctx: CommandContext): Promise<number> {
  const file = ctx.params[0];
  if (!file) throw new CliError("usage: jarvis card export FILE.jcard", 2);
  const client = await connectSession(ctx.paths);
  const { identity } = await client.getIdentity({});
  if (!identity?.card) throw new CliError("no card available");
  writeFileSync(file, toBinary(ContactCardSchema, identity.card), { mode: 0o644 });
  ctx.out(`card written to ${file}`);
  return 0;
}

export async function contactAdd(ctx: CommandContext): Promise<number> {
  const source = ctx.params[0];
  if (!source) throw new CliError("usage: jarvis contact add CODE|FILE.jcard [--alias NAME]", 2);
  const client = await connectSession(ctx.paths);
  const alias = flagValue(ctx.args, "alias") ?? "";
  const request = source.startsWith("jarvis://") ? { source: { case: "linkCode" as const, value: source }, alias } : { source: { case: "card" as const, value: readCard(source) }, alias };
  const { contact } = await client.addContact(request);
  if (!contact) throw new CliError("no contact returned");
  ctx.out(ctx.json ? safeJson(contactJson(contact)) : `added ${printable(contact.name)} (${contact.uid}) fingerprint ${formatFingerprint(contact.fingerprint)}`);
  return 0;
}

function readCard(path: string): ContactCard {
  if (!existsSync(path)) throw new CliError(`bad link code: not a jarvis:// code and no file ${path}`);
  const bytes = readFileSync(path);
  if (bytes.length > MAX_CARD_FILE) throw new CliError("bad card: file too large");
  try {
    return fromBinary(ContactCardSchema, bytes);
  } catch {
    throw new CliError("bad card: not a contact card file");
  }
}

export async function contacts(ctx: CommandContext): Promise<number> {
  const client = await connectSession(ctx.paths);
  const list = (await client.listContacts({})).contacts;
  if (ctx.json) {
    ctx.out(safeJson(list.map(contactJson)));
    return 0;
  }
  if (list.length === 0) ctx.out("no contacts yet: share `jarvis link` and add theirs with `jarvis contact add CODE`");
  for (const c of list) {
    const alias = c.alias ? ` (${printable(c.alias)})` : "";
    const claim = c.claimedName ? ` calls itself "${printable(c.claimedName)}"` : "";
    ctx.out(`${presenceName(c.presence).padEnd(5)} ${printable(c.name)}${alias} ${c.uid}${c.verified ? " verified" : ""}${claim}`);
  }
  return 0;
}

export async function contactRemove(ctx: CommandContext): Promise<number> {
  const contact = ctx.params[0];
  if (!contact) throw new CliError("usage: jarvis contact remove CONTACT", 2);
  await (await connectSession(ctx.paths)).removeContact({ contact });
  ctx.out("contact removed");
  return 0;
}

export async function contactAlias(ctx: CommandContext): Promise<number> {
  const [contact, alias] = ctx.params;
  if (!contact || alias === undefined) throw new CliError("usage: jarvis contact alias CONTACT ALIAS", 2);
  const updated = (await (await connectSession(ctx.paths)).updateContact({ contact, alias })).contact;
  ctx.out(ctx.json && updated ? safeJson(contactJson(updated)) : "alias set");
  return 0;
}

export async function contactVerify(ctx: CommandContext): Promise<number> {
  const contact = ctx.params[0];
  if (!contact) throw new CliError("usage: jarvis contact verify CONTACT [--no]", 2);
  const verified = !ctx.args.flags.has("no");
  await (await connectSession(ctx.paths)).updateContact({ contact, verified });
  ctx.out(verified ? "contact marked verified" : "contact marked unverified");
  return 0;
}

export async function contactReceipts(ctx: CommandContext): Promise<number> {
  const [contact, setting] = ctx.params;
  if (!contact || (setting !== "on" && setting !== "off")) throw new CliError("usage: jarvis contact receipts CONTACT on|off", 2);
  await (await connectSession(ctx.paths)).updateContact({ contact, sendReceipts: setting === "on" });
  ctx.out(`read receipts ${setting} for this contact`);
  return 0;
}

export async function safety(ctx: CommandContext): Promise<number> {
  const contact = ctx.params[0];
  if (!contact) throw new CliError("usage: jarvis safety CONTACT", 2);
  const result = await (await connectSession(ctx.paths)).getSafetyNumber({ contact });
  ctx.out(ctx.json ? safeJson({ safetyNumber: result.safetyNumber }) : result.formatted);
  return 0;
}
