import { writeFileSync } from "node:fs";
import { prompt } from "../widgets/modal.js";
import { errorText } from "./auth.js";
import type { DialogContext } from "./context.js";

/** Sets (or with an empty line clears) the host:port on our card; the new link code follows. */
export async function changeAdvertisedAddress(ctx: DialogContext, current: string): Promise<void> {
  const address = await prompt(ctx.screen, ctx.router, {
    title: "advertised address",
    text: "host:port that other machines should dial (empty: back to the listener's addresses):",
    value: current,
  });
  if (address === undefined) return;
  const { identity } = await ctx.client.setAdvertisedAddress({ address });
  ctx.notice(`advertising ${identity?.card?.addresses.join(", ") || "no address"}; share the new link code (Ctrl-N)`);
}

/** Password (masked), then a file that must not exist yet; written 0600 like the CLI does. */
export async function exportAccount(ctx: DialogContext): Promise<void> {
  const password = await prompt(ctx.screen, ctx.router, { title: "export account", text: "Account password:", secret: true });
  if (password === undefined) return;
  const path = await prompt(ctx.screen, ctx.router, { title: "export account", text: "Write the encrypted backup to (a new file):", value: "jarvis-account.backup" });
  if (!path?.trim()) return;
  const { archive } = await ctx.client.exportAccount({ password });
  try {
    writeFileSync(path.trim(), archive, { mode: 0o600, flag: "wx" });
    ctx.notice(`account exported to ${path.trim()}`);
  } catch (error) {
    ctx.notice(`could not write the backup: ${errorText(error)}`);
  }
}

/** Deletes the identity and all its data: a typed confirmation, then the password (masked). */
export async function deleteAccount(ctx: DialogContext): Promise<boolean> {
  const sure = await prompt(ctx.screen, ctx.router, {
    title: "delete account",
    text: "{red-fg}This deletes your identity, contacts and every message on this machine.{/red-fg}\nType delete to go on:",
  });
  if (sure?.trim() !== "delete") {
    ctx.notice("nothing deleted");
    return false;
  }
  const password = await prompt(ctx.screen, ctx.router, { title: "delete account", text: "Account password:", secret: true });
  if (password === undefined) return false;
  await ctx.client.deleteIdentity({ password });
  ctx.notice("account deleted");
  return true;
}
