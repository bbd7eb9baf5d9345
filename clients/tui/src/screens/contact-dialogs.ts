import type { Contact } from "@jarvis/proto/jarvis/session/v1/resources";
import { existsSync, readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { fingerprintOf, formatFingerprint } from "@jarvis/core";
import { ContactCardSchema, type ContactCard } from "@jarvis/proto/jarvis/peer/v1/card";
import { safe } from "../text/display.js";
import { openModal, prompt } from "../widgets/modal.js";
import { errorText } from "./auth.js";
import type { DialogContext } from "./context.js";

/** Decodes a link code or reads a .jcard, locally, so the person sees who it is before saving. */
export function readCard(source: string): ContactCard {
  const text = source.trim();
  if (text.startsWith("jarvis://")) return fromBinary(ContactCardSchema, Buffer.from(text.slice("jarvis://".length), "base64url"));
  if (existsSync(text)) return fromBinary(ContactCardSchema, readFileSync(text));
  throw new Error("not a jarvis:// link code, and no such card file");
}

export async function addContact(ctx: DialogContext): Promise<void> {
  const source = await prompt(ctx.screen, ctx.router, { title: "add contact", text: "Paste a jarvis:// link code, or type the path of a .jcard file:" });
  if (!source?.trim()) return;
  let card: ContactCard;
  let fingerprint: string;
  try {
    card = readCard(source);
    fingerprint = formatFingerprint(fingerprintOf(card.publicKey));
  } catch (error) {
    return ctx.notice(`bad link code: ${errorText(error)}`);
  }
  const alias = await prompt(ctx.screen, ctx.router, {
    title: "check and save",
    text: `name         ${safe(card.name)}\nfingerprint  ${fingerprint}\n\nCompare the fingerprint with them. Name to show (Enter keeps it, Esc cancels):`,
    value: card.name,
  });
  if (alias === undefined) return;
  try {
    const { contact } = await ctx.client.addContact({ source: { case: "card", value: card }, alias: alias.trim() === card.name ? "" : alias.trim() });
    ctx.notice(`added ${contact?.name ?? card.name}`);
  } catch (error) {
    ctx.notice(errorText(error));
  }
}

/** Safety number, verify, rename, receipts, remove. */
export async function contactDetails(ctx: DialogContext, uid: string): Promise<void> {
  const { contact } = await ctx.client.getContact({ contact: uid });
  if (!contact) return;
  const { formatted } = await ctx.client.getSafetyNumber({ contact: uid });
  const content = () => {
    const c = ctx.store.contacts.get(uid) ?? contact;
    return [
      `name           ${safe(c.name)}${c.alias ? ` (shown as ${safe(c.alias)})` : ""}${claimNote(c)}`,
      `uid            ${c.uid}`,
      `fingerprint    ${formatFingerprint(c.fingerprint)}`,
      `addresses      ${safe(c.addresses.join(", ") || "none known")}`,
      `receipts       ${c.sendReceipts ? "sent" : "not sent"}`,
      "",
      "safety number (compare with theirs):",
      `  {bold}${formatted}{/bold}`,
      `verified       ${c.verified ? "{green-fg}yes{/green-fg}" : "{yellow-fg}no{/yellow-fg} — compare the safety number with them, then press v"}`,
      "",
      "{cyan-fg}v{/cyan-fg} verified  {cyan-fg}r{/cyan-fg} rename  {cyan-fg}e{/cyan-fg} receipts on/off  {cyan-fg}x{/cyan-fg} remove  {cyan-fg}Esc{/cyan-fg} close",
    ].join("\n");
  };
  const update = (change: { verified?: boolean; alias?: string; sendReceipts?: boolean }) =>
    ctx.client
      .updateContact({ contact: uid, ...change })
      .then(({ contact: c }) => {
        if (c) ctx.store.contacts.set(uid, c);
        modal.setContent(content());
      })
      .catch((error: unknown) => ctx.notice(errorText(error)));
  const modal = openModal(ctx.screen, ctx.router, {
    title: "contact",
    width: "90%",
    content: content(),
    onKey: (ch) => {
      const c = ctx.store.contacts.get(uid) ?? contact;
      if (ch === "v") void update({ verified: !c.verified });
      else if (ch === "e") void update({ sendReceipts: !c.sendReceipts });
      else if (ch === "r") void prompt(ctx.screen, ctx.router, { title: "show as", value: c.alias || c.name }).then((alias) => (alias === undefined ? undefined : update({ alias: alias.trim() })));
      else if (ch === "x")
        void prompt(ctx.screen, ctx.router, { title: "remove contact", text: `Type {bold}yes{/bold} to remove ${safe(c.alias || c.name)}:` }).then(async (answer) => {
          if (answer?.trim() !== "yes") return;
          await ctx.client.removeContact({ contact: uid }).catch((error: unknown) => ctx.notice(errorText(error)));
          modal.close();
        });
      else return false;
      return true;
    },
  });
}

/** A name the peer announced after we added it: shown as its claim, never as its name. */
export function claimNote(c: Contact): string {
  const claimed = c.claimedName.trim();
  return claimed && claimed !== c.name && claimed !== c.alias ? ` (calls themself "${safe(claimed)}")` : "";
}
