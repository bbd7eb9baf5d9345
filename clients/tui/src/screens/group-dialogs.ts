import { safe } from "../text/display.js";
import { openModal, prompt } from "../widgets/modal.js";
import { errorText } from "./auth.js";
import type { DialogContext } from "./context.js";

/** Members are picked by number from the contact list shown in the dialog. */
export async function newGroup(ctx: DialogContext): Promise<void> {
  const contacts = [...ctx.store.contacts.values()];
  const list = contacts.map((c, i) => `${i + 1}. ${safe(ctx.store.nameOf(c.uid))}`).join("\n") || "(no contacts yet)";
  const name = await prompt(ctx.screen, ctx.router, { title: "new group", text: "Group name:" });
  if (!name?.trim()) return;
  const picked = await prompt(ctx.screen, ctx.router, { title: "members", text: `${list}\n\nNumbers of the members, separated by spaces:` });
  if (picked === undefined) return;
  const members = picked
    .split(/[\s,]+/)
    .map((n) => contacts[Number(n) - 1]?.uid)
    .filter((uid): uid is string => uid !== undefined);
  try {
    await ctx.client.createGroup({ name: name.trim(), members });
    ctx.notice(`group ${name.trim()} created`);
  } catch (error) {
    ctx.notice(errorText(error));
  }
}

export async function groupDetails(ctx: DialogContext, id: string): Promise<void> {
  const content = () => {
    const g = ctx.store.groups.get(id);
    if (!g) return "this group is gone";
    return [
      `name     ${safe(g.name)}`,
      `id       ${g.id}`,
      `admin    ${safe(ctx.store.nameOf(g.creatorUid))} (creator)`,
      `members  ${g.memberUids.map((uid) => safe(ctx.store.nameOf(uid))).join(", ")}`,
      "",
      "{cyan-fg}a{/cyan-fg} add member  {cyan-fg}l{/cyan-fg} leave  {cyan-fg}Esc{/cyan-fg} close",
    ].join("\n");
  };
  const modal = openModal(ctx.screen, ctx.router, {
    title: "group",
    width: "90%",
    content: content(),
    onKey: (ch) => {
      if (ch === "a") {
        void prompt(ctx.screen, ctx.router, { title: "add member", text: "Contact name or uid:" }).then(async (who) => {
          if (!who?.trim()) return;
          await ctx.client.addGroupMembers({ group: id, members: [who.trim()] }).catch((error: unknown) => ctx.notice(errorText(error)));
          modal.setContent(content());
        });
      } else if (ch === "l") {
        void ctx.client
          .leaveGroup({ group: id })
          .then(() => modal.close())
          .catch((error: unknown) => ctx.notice(errorText(error)));
      } else return false;
      return true;
    },
  });
}
