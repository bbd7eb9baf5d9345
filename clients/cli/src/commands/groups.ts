import { CliError } from "../cli-error.js";
import { connectSession } from "../connection.js";
import { groupJson, messageJson, presenceName, printable, safeJson, stateName } from "../format.js";
import type { CommandContext } from "../context.js";

export async function groupCreate(ctx: CommandContext): Promise<number> {
  const [name, ...members] = ctx.params;
  if (!name) throw new CliError("usage: jarvis group create NAME MEMBER...", 2);
  const { group } = await (await connectSession(ctx.paths)).createGroup({ name, members });
  ctx.out(ctx.json && group ? safeJson(groupJson(group)) : (group?.id ?? ""));
  return 0;
}

export async function groupSend(ctx: CommandContext): Promise<number> {
  const [group, ...words] = ctx.params;
  if (!group || words.length === 0) throw new CliError("usage: jarvis group send GROUP TEXT", 2);
  const client = await connectSession(ctx.paths);
  // The prefix makes the session read it as a group only, even where a contact has the name.
  const { message } = await client.sendMessage({ conversation: `group:${group}`, text: words.join(" ") });
  if (!message) throw new CliError("no message returned");
  ctx.out(ctx.json ? safeJson(messageJson(message)) : `${message.id} ${stateName(message.state)}`);
  return 0;
}

export async function groupAdd(ctx: CommandContext): Promise<number> {
  const [group, ...members] = ctx.params;
  if (!group || members.length === 0) throw new CliError("usage: jarvis group add GROUP MEMBER...", 2);
  await (await connectSession(ctx.paths)).addGroupMembers({ group, members });
  ctx.out("members added");
  return 0;
}

export async function groupLeave(ctx: CommandContext): Promise<number> {
  const group = ctx.params[0];
  if (!group) throw new CliError("usage: jarvis group leave GROUP", 2);
  await (await connectSession(ctx.paths)).leaveGroup({ group });
  ctx.out("left the group");
  return 0;
}

export async function groupDelete(ctx: CommandContext): Promise<number> {
  const group = ctx.params[0];
  if (!group) throw new CliError("usage: jarvis group delete GROUP", 2);
  await (await connectSession(ctx.paths)).deleteGroup({ group });
  ctx.out("group deleted");
  return 0;
}

export async function groups(ctx: CommandContext): Promise<number> {
  const list = (await (await connectSession(ctx.paths)).listGroups({})).groups;
  if (ctx.json) ctx.out(safeJson(list.map(groupJson)));
  else for (const g of list) ctx.out(`${presenceName(g.presence).padEnd(5)} ${printable(g.name)} ${g.id} (${g.memberUids.length} members)`);
  return 0;
}

export async function groupAdmin(ctx: CommandContext): Promise<number> {
  const [group, member] = ctx.params;
  if (!group || !member) throw new CliError("usage: jarvis group admin GROUP CONTACT", 2);
  await (await connectSession(ctx.paths)).grantGroupAdmin({ group, member });
  ctx.out("admin granted");
  return 0;
}

export async function groupRemove(ctx: CommandContext): Promise<number> {
  const [group, member] = ctx.params;
  if (!group || !member) throw new CliError("usage: jarvis group remove GROUP CONTACT", 2);
  await (await connectSession(ctx.paths)).removeGroupMember({ group, member });
  ctx.out("member removed");
  return 0;
}
