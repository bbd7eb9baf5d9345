import { writeFileSync, readFileSync } from "node:fs";
import { checkStartOptions, readNodeSettings, writeNodeSettings } from "../node-settings.js";
import { errorCodeOf } from "@jarvis/rpc";
import { flagValue } from "../args.js";
import { CliError } from "../cli-error.js";
import { connectSession, ensureDaemon, waitUntilListening } from "../connection.js";
import { isProcessAlive, readIpcInfo, runningDaemonPid } from "../daemon-files.js";
import { profileProcesses, stopProfileProcesses } from "../profile-processes.js";
import { readPassword } from "../password.js";
import { safeJson, printable } from "../format.js";
import { checkListenPort } from "../listen-port.js";
import { envLayer, readConfigFile, resolveSettings } from "../start-config.js";
import type { CommandContext } from "../context.js";

/**
 * Where to listen etc.: flags > JARVIS_* environment > what earlier flags left in node.json >
 * <profile>/config > defaults (see start-config.ts). Flags are remembered for the next `up`,
 * so it keeps the address that is already on the cards handed out.
 */
export function startOptions(ctx: CommandContext) {
  const options = resolveStartOptions(ctx);
  rememberStartOptions(ctx, options);
  return options;
}

function rememberStartOptions(ctx: CommandContext, options: { listen: string; advertise: string; ipc: string | undefined }): void {
  if (ctx.args.flags.has("listen") || ctx.args.flags.has("advertise") || ctx.args.flags.has("ipc")) {
    writeNodeSettings(ctx.paths, { listen: options.listen, advertise: options.advertise, ipc: options.ipc });
  }
}

function resolveStartOptions(ctx: CommandContext) {
  const saved = readNodeSettings(ctx.paths);
  const flags = { listen: flagValue(ctx.args, "listen"), advertise: flagValue(ctx.args, "advertise"), ipc: flagValue(ctx.args, "ipc"), "log-level": flagValue(ctx.args, "log-level") };
  const options = resolveSettings([flags, envLayer(process.env), saved, readConfigFile(ctx.paths)]).settings;
  checkStartOptions(options);
  // Only a value that differs from the one the node runs with is a change (`up` is idempotent).
  const current: Record<string, string | undefined> = { listen: saved.listen, advertise: saved.advertise, ipc: saved.ipc };
  const changing = (["listen", "advertise", "ipc"] as const).filter((flag) => ctx.args.flags.has(flag) && flagValue(ctx.args, flag) !== current[flag]);
  if (changing.length > 0 && runningDaemonPid(ctx.paths) !== undefined) {
    // Applying these live would change the address on cards already handed out under the
    // node's feet; refusing (and saving nothing) is the honest answer.
    const running = readIpcInfo(ctx.paths).listen;
    throw new CliError(`the node is already running${running ? ` (listen ${running})` : ""}; to change --${changing.join("/--")}, run jarvis down first, then jarvis up with the new value`);
  }
  return options;
}

/**
 * Before starting a node: a peer port the person chose that is taken fails now, naming it;
 * the default port, taken, is replaced by a free one (port 0: the node keeps what it gets).
 */
async function startOptionsChecked(ctx: CommandContext) {
  const options = resolveStartOptions(ctx);
  if (runningDaemonPid(ctx.paths) !== undefined) return options;
  // Checked before anything is remembered: a port that cannot be used is never saved.
  const flags = { listen: flagValue(ctx.args, "listen") };
  const { listenChosen: chosen } = resolveSettings([flags, envLayer(process.env), readNodeSettings(ctx.paths), readConfigFile(ctx.paths)]);
  const listen = await checkListenPort(options.listen, chosen);
  rememberStartOptions(ctx, options);
  if (listen !== options.listen) ctx.err(`jarvis: port ${options.listen.split(":").pop()} is in use; the node picks a free port instead (see jarvis status)`);
  return { ...options, listen };
}

/** How long `down` waits for the supervisor (and then for any stray service) before SIGKILL. */
const STOP_GRACE_MS = 15_000;

/** Stops a daemon this command started itself, so a failed command leaves nothing behind. */
async function undo(ctx: CommandContext, started: boolean): Promise<void> {
  if (started) await stopDaemon(ctx);
}

export async function init(ctx: CommandContext): Promise<number> {
  const name = flagValue(ctx.args, "name") ?? ctx.params[0];
  if (!name) throw new CliError("usage: jarvis init --name NAME", 2);
  const password = await readPassword(flagValue(ctx.args, "password-file"), "New password: ");
  const { client, started } = await ensureDaemon(ctx.paths, await startOptionsChecked(ctx));
  let created = false;
  try {
    const { identity } = await client.createIdentity({ name, password });
    created = true;
    await waitUntilListening(client);
    if (ctx.json) ctx.out(safeJson({ uid: identity?.uid, name: identity?.name, fingerprint: identity?.fingerprint }));
    else ctx.out(`created identity ${printable(identity?.name ?? "")} (${identity?.uid}); the node is running and unlocked`);
    return 0;
  } catch (error) {
    // Atomic: an init that fails leaves no identity behind, so running it again just works.
    if (created) await client.deleteIdentity({ password }).catch(() => undefined);
    await undo(ctx, started);
    throw error;
  }
}

export async function up(ctx: CommandContext): Promise<number> {
  const running = runningDaemonPid(ctx.paths) !== undefined;
  let password: string | undefined;
  if (!running) password = await readPassword(flagValue(ctx.args, "password-file"));
  const { client, started } = await ensureDaemon(ctx.paths, await startOptionsChecked(ctx));
  try {
    const status = await client.getStatus({});
    if (!status.identityExists) throw new CliError("no identity in this profile: create one with `jarvis init --name NAME`");
    if (status.locked) {
      password ??= await readPassword(flagValue(ctx.args, "password-file"));
      await client.unlock({ password });
    }
    await waitUntilListening(client);
    const ready = await client.getStatus({});
    ctx.out(ctx.json ? safeJson({ daemon: "running", listen: ready.listenAddress, uid: ready.uid }) : `jarvis is up: ${ready.name} listening on ${ready.listenAddress}`);
    return 0;
  } catch (error) {
    await undo(ctx, started);
    throw error;
  }
}

export async function unlock(ctx: CommandContext): Promise<number> {
  const client = await connectSession(ctx.paths);
  const password = await readPassword(flagValue(ctx.args, "password-file"));
  await client.unlock({ password });
  await waitUntilListening(client);
  ctx.out("unlocked");
  return 0;
}

export async function lock(ctx: CommandContext): Promise<number> {
  const client = await connectSession(ctx.paths);
  await client.lock({});
  ctx.out("locked");
  return 0;
}

export async function down(ctx: CommandContext): Promise<number> {
  // The pid file is not the only witness: a node whose run/ was deleted, or services left
  // behind by a killed supervisor, are found by their environment (see profile-processes).
  if (runningDaemonPid(ctx.paths) === undefined && profileProcesses(ctx.paths.home).length === 0) {
    ctx.out("jarvis is not running");
    return 0;
  }
  await stopDaemon(ctx);
  ctx.out("jarvis stopped");
  return 0;
}

async function stopDaemon(ctx: CommandContext): Promise<void> {
  const pid = runningDaemonPid(ctx.paths);
  await stopProfileProcesses(ctx.paths.home, STOP_GRACE_MS);
  if (pid !== undefined && isProcessAlive(pid)) throw new CliError(`the daemon (pid ${pid}) did not stop in time`);
}

export async function passwd(ctx: CommandContext): Promise<number> {
  const client = await connectSession(ctx.paths);
  const oldPassword = await readPassword(flagValue(ctx.args, "password-file"), "Current password: ");
  const newFile = flagValue(ctx.args, "new-password-file");
  const newPassword = newFile ? readFileSync(newFile, "utf8").replace(/\r?\n$/, "") : process.env.JARVIS_NEW_PASSWORD;
  if (!newPassword) throw new CliError("the new password comes from --new-password-file FILE or JARVIS_NEW_PASSWORD");
  await client.changePassword({ oldPassword, newPassword });
  ctx.out("password changed");
  return 0;
}

export async function deleteIdentity(ctx: CommandContext): Promise<number> {
  if (!ctx.args.flags.has("yes")) throw new CliError("this deletes the identity, contacts and all messages; repeat with --yes", 2);
  const password = await readPassword(flagValue(ctx.args, "password-file"));
  // Works with the node down too: start it for the deletion (checks the password), then stop it.
  const { client, started } = await ensureDaemon(ctx.paths, startOptions(ctx));
  try {
    await client.deleteIdentity({ password });
  } finally {
    await undo(ctx, started);
  }
  ctx.out("identity deleted");
  return 0;
}

export async function accountExport(ctx: CommandContext): Promise<number> {
  const file = ctx.params[0];
  if (!file) throw new CliError("usage: jarvis account export FILE", 2);
  const client = await connectSession(ctx.paths);
  const password = await readPassword(flagValue(ctx.args, "password-file"));
  const { archive } = await client.exportAccount({ password });
  writeFileSync(file, archive, { mode: 0o600, flag: "wx" });
  ctx.out(`account exported to ${file}`);
  return 0;
}

export async function accountImport(ctx: CommandContext): Promise<number> {
  const file = ctx.params[0];
  if (!file) throw new CliError("usage: jarvis account import FILE", 2);
  let archive: Buffer;
  try {
    archive = readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const password = await readPassword(flagValue(ctx.args, "password-file"));
  const { client, started } = await ensureDaemon(ctx.paths, startOptions(ctx));
  try {
    const { identity } = await client.importAccount({ archive, password });
    await waitUntilListening(client);
    ctx.out(`account of ${printable(identity?.name ?? "")} (${identity?.uid}) restored`);
    return 0;
  } catch (error) {
    if (errorCodeOf(error) === "identity-exists") await undo(ctx, false);
    else await undo(ctx, started);
    throw error;
  }
}
