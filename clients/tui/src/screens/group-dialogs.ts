import type { Group } from "@jarvis/proto/jarvis/session/v1/resources";
import { safe } from "../text/display.js";
import { openModal, prompt } from "../widgets/modal.js";
import { pickList } from "../widgets/pick-list.js";
import { errorText } from "./auth.js";
import type { DialogContext } from "./context.js";

/** A name, then members ticked in a checkbox list of the contacts. */
export async function newGroup(ctx: DialogContext): Promise<void> {
  const name = await prompt(ctx.screen, ctx.router, { title: "new group", text: "Group name:" });
  if (!name?.trim()) return;
  const items = [...ctx.store.contacts.values()].map((c) => ({ id: c.uid, label: ctx.store.nameOf(c.uid) })).sort((a, b) => a.label.localeCompare(b.label));
  const members = await pickList(ctx.screen, ctx.router, { title: `members of ${name.trim()}`, items, multi: true });
  if (!members) return;
  try {
    await ctx.client.createGroup({ name: name.trim(), members });
    ctx.notice(`group ${name.trim()} created`);
  } catch (error) {
    ctx.notice(errorText(error));
  }
}

/** The name shown for a member: our own name for a contact, the card's claim otherwise. */
function memberName(ctx: DialogContext, g: Group, uid: string): string {
  if (uid === ctx.store.selfUid || ctx.store.contacts.has(uid)) return ctx.store.nameOf(uid);
  const claimed = g.members.find((m) => m.uid === uid)?.name;
  return claimed ? `${claimed}~${uid.slice(0, 6)} (via group)` : uid.slice(0, 8);
}

export function groupLines(ctx: DialogContext, g: Group): string[] {
  const mine = g.adminUids.includes(ctx.store.selfUid);
  const role = (uid: string) => [uid === g.creatorUid ? "creator" : "", g.adminUids.includes(uid) ? "admin" : ""].filter(Boolean).join(", ");
  return [
    `name     ${safe(g.name)}`,
    `id       ${g.id}`,
    `admins   ${g.adminUids.map((uid) => safe(memberName(ctx, g, uid))).sort().join(", ")}`,
    "members",
    ...[...g.memberUids].sort((a, b) => memberName(ctx, g, a).localeCompare(memberName(ctx, g, b))).map((uid) => `  ${safe(memberName(ctx, g, uid))}${role(uid) ? `  {cyan-fg}${role(uid)}{/cyan-fg}` : ""}`),
    "",
    mine
      ? "{cyan-fg}a{/cyan-fg} add member  {cyan-fg}g{/cyan-fg} grant admin  {cyan-fg}r{/cyan-fg} remove member  {cyan-fg}l{/cyan-fg} leave  {cyan-fg}Esc{/cyan-fg} close"
      : "{cyan-fg}l{/cyan-fg} leave  {cyan-fg}Esc{/cyan-fg} close   (only admins add, remove or grant admin)",
  ];
}

export async function groupDetails(ctx: DialogContext, id: string): Promise<void> {
  const content = () => {
    const g = ctx.store.groups.get(id);
    return g ? groupLines(ctx, g).join("\n") : "this group is gone";
  };
  const run = (action: () => Promise<unknown>) =>
    void action()
      .catch((error: unknown) => ctx.notice(errorText(error)))
      .finally(() => modal.setContent(content()));
  /** Picks one member (other than us) matching `which`; undefined when cancelled. */
  const pickMember = async (title: string, which: (g: Group, uid: string) => boolean) => {
    const g = ctx.store.groups.get(id);
    if (!g) return undefined;
    const items = g.memberUids.filter((uid) => uid !== ctx.store.selfUid && which(g, uid)).map((uid) => ({ id: uid, label: memberName(ctx, g, uid) }));
    items.sort((a, b) => a.label.localeCompare(b.label));
    return (await pickList(ctx.screen, ctx.router, { title, items }))?.[0];
  };
  const modal = openModal(ctx.screen, ctx.router, {
    title: "group",
    width: "90%",
    content: content(),
    onKey: (ch) => {
      if (ch === "a") {
        run(async () => {
          const g = ctx.store.groups.get(id);
          const items = [...ctx.store.contacts.values()].filter((c) => !g?.memberUids.includes(c.uid)).map((c) => ({ id: c.uid, label: ctx.store.nameOf(c.uid) }));
          const members = await pickList(ctx.screen, ctx.router, { title: "add members", items, multi: true });
          if (members?.length) await ctx.client.addGroupMembers({ group: id, members });
        });
      } else if (ch === "g") {
        run(async () => {
          const member = await pickMember("grant admin to", (g, uid) => !g.adminUids.includes(uid));
          if (member) await ctx.client.grantGroupAdmin({ group: id, member });
        });
      } else if (ch === "r") {
        run(async () => {
          const member = await pickMember("remove from the group", (g, uid) => uid !== g.creatorUid);
          if (!member) return;
          const g = ctx.store.groups.get(id);
          const sure = await prompt(ctx.screen, ctx.router, { title: "remove member", text: `Remove ${safe(g ? memberName(ctx, g, member) : member)}? Type yes:` });
          if (sure?.trim().toLowerCase() === "yes") await ctx.client.removeGroupMember({ group: id, member });
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
