import { writeFileSync } from "node:fs";
import { toBinary } from "@bufbuild/protobuf";
import { formatFingerprint } from "@jarvis/core";
import { ContactCardSchema } from "@jarvis/proto/jarvis/peer/v1/card";
import { safe } from "../text/display.js";
import { openModal, prompt } from "../widgets/modal.js";
import { errorText } from "./auth.js";
import { changeAdvertisedAddress, deleteAccount, exportAccount } from "./account-dialogs.js";
import type { DialogContext } from "./context.js";

/** My link code, whole (wrapped by the box, no border inside it, so it copies cleanly). */
export async function showLinkCode(ctx: DialogContext): Promise<void> {
  const { identity } = await ctx.client.getIdentity({});
  if (!identity) return;
  const modal = openModal(ctx.screen, ctx.router, {
    title: "my link code",
    width: "90%",
    content: `${identity.linkCode}\n\n{cyan-fg}w{/cyan-fg} write my card to a file   {cyan-fg}Esc{/cyan-fg} close`,
    onKey: (ch) => {
      if (ch !== "w") return false;
      void prompt(ctx.screen, ctx.router, { title: "write card to", value: `${identity.name}.jcard` }).then((path) => {
        if (!path || !identity.card) return;
        try {
          writeFileSync(path, toBinary(ContactCardSchema, identity.card), { mode: 0o644 });
          ctx.notice(`card written to ${path}`);
        } catch (error) {
          ctx.notice(`could not write the card: ${errorText(error)}`);
        }
      });
      return true;
    },
  });
  modal.box.setFront();
}

export async function showSettings(ctx: DialogContext): Promise<void> {
  let status = await ctx.client.getStatus({});
  let addresses = (await ctx.client.getIdentity({})).identity?.card?.addresses ?? [];
  const content = () =>
    [
      `name          ${safe(status.name)}`,
      `uid           ${status.uid}`,
      `fingerprint   ${formatFingerprint(status.fingerprint)}`,
      `listening on  ${safe(status.listenAddress || "not listening")}`,
      `advertised    ${safe(addresses.join(", ") || "none")}`,
      `notifications ${ctx.settings.notifications ? "{green-fg}on{/green-fg}" : "{yellow-fg}off{/yellow-fg}"}`,
      "",
      "{cyan-fg}n{/cyan-fg} notifications on/off  {cyan-fg}a{/cyan-fg} advertised address  {cyan-fg}c{/cyan-fg} link code / export card",
      "{cyan-fg}p{/cyan-fg} change password  {cyan-fg}x{/cyan-fg} export account  {cyan-fg}D{/cyan-fg} delete account  {cyan-fg}Esc{/cyan-fg} close",
    ].join("\n");
  const refresh = async () => {
    status = await ctx.client.getStatus({});
    addresses = (await ctx.client.getIdentity({})).identity?.card?.addresses ?? [];
    modal.setContent(content());
  };
  const run = (action: () => Promise<unknown>) => void action().catch((error: unknown) => ctx.notice(errorText(error)));
  const modal = openModal(ctx.screen, ctx.router, {
    title: "settings",
    width: "90%",
    content: content(),
    onKey: (ch) => {
      const actions: Record<string, () => void> = {
        n: () => {
          ctx.settings.notifications = !ctx.settings.notifications;
          modal.setContent(content());
        },
        a: () => run(() => changeAdvertisedAddress(ctx, addresses.length === 1 ? (addresses[0] ?? "") : "").then(refresh)),
        c: () => void showLinkCode(ctx),
        p: () => void changePassword(ctx),
        x: () => run(() => exportAccount(ctx)),
        D: () => run(async () => (await deleteAccount(ctx)) && modal.close()),
      };
      const action = ch === undefined ? undefined : actions[ch];
      if (!action) return false;
      action();
      return true;
    },
  });
}

async function changePassword(ctx: DialogContext): Promise<void> {
  const old = await prompt(ctx.screen, ctx.router, { title: "current password", secret: true });
  if (old === undefined) return;
  const fresh = await prompt(ctx.screen, ctx.router, { title: "new password", secret: true });
  if (fresh === undefined) return;
  const again = await prompt(ctx.screen, ctx.router, { title: "new password again", secret: true });
  if (fresh !== again) return ctx.notice("the new passwords differ; nothing changed");
  try {
    await ctx.client.changePassword({ oldPassword: old, newPassword: fresh });
    ctx.notice("password changed");
  } catch (error) {
    ctx.notice(errorText(error));
  }
}
