import { writeFileSync, readFileSync } from "node:fs";
import { checkStartOptions, readNodeSettings, writeNodeSettings } from "../node-settings.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { DEFAULT_LISTEN_ADDRESS, formatFingerprint } from "@jarvis/core";
import { flagValue } from "../args.js";
import { CliError } from "../cli-error.js";
import { connectSession, ensureDaemon, waitUntilListening, type SessionClient } from "../connection.js";
import { isProcessAlive, readChildrenInfo, readIpcInfo, runningDaemonPid } from "../daemon-files.js";
import { profileProcesses, stopProfileProcesses } from "../profile-processes.js";
import { readPassword } from "../password.js";
import { presenceName, safeJson, printable } from "../format.js";
import type { CommandContext } from "../context.js";

/**
 * Where to listen: the flags if given (remembered in the profile for next time), else what was
 * remembered, else the environment, else the default — so `jarvis up` after
 * `jarvis init --listen …` keeps the address that is already on the cards handed out.
 */
export function startOptions(ctx: CommandContext) {
  const saved = readNodeSettings(ctx.paths);
  const options = {
    listen: flagValue(ctx.args, "listen") ?? saved.listen ?? process.env.JARVIS_LISTEN ?? DEFAULT_LISTEN_ADDRESS,
    advertise: flagValue(ctx.args, "advertise") ?? saved.advertise ?? process.env.JARVIS_ADVERTISE ?? "",
    ipc: flagValue(ctx.args, "ipc") ?? saved.ipc,
    logLevel: flagValue(ctx.args, "log-level") ?? process.env.JARVIS_LOG_LEVEL ?? "info",
  };
  checkStartOptions(options);
  if (ctx.args.flags.has("listen") || ctx.args.flags.has("advertise") || ctx.args.flags.has("ipc")) {
    writeNodeSettings(ctx.paths, { listen: options.listen, advertise: options.advertise, ipc: options.ipc });
  }
  return options;
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
  const { client, started } = await ensureDaemon(ctx.paths, startOptions(ctx));
  try {
    const { identity } = await client.createIdentity({ name, password });
    await waitUntilListening(client);
    if (ctx.json) ctx.out(safeJson({ uid: identity?.uid, name: identity?.name, fingerprint: identity?.fingerprint }));
    else ctx.out(`created identity ${printable(identity?.name ?? "")} (${identity?.uid}); the node is running and unlocked`);
    return 0;
  } catch (error) {
    await undo(ctx, started);
    throw error;
  }
}

export async function up(ctx: CommandContext): Promise<number> {
  const running = runningDaemonPid(ctx.paths) !== undefined;
  let password: string | undefined;
  if (!running) password = await readPassword(flagValue(ctx.args, "password-file"));
  const { client, started } = await ensureDaemon(ctx.paths, startOptions(ctx));
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

export async function status(ctx: CommandContext): Promise<number> {
  if (runningDaemonPid(ctx.paths) === undefined) {
    const strays = profileProcesses(ctx.paths.home);
    if (strays.length > 0) {
      const pids = strays.map((p) => `${p.role} ${p.pid}`).join(", ");
      ctx.out(ctx.json ? safeJson({ daemon: "unreachable", locked: true, peers: [], processes: strays }) : `daemon: unreachable (its run/ files are missing; processes: ${pids}); stop it with jarvis down`);
      return 0;
    }
    ctx.out(ctx.json ? safeJson({ daemon: "stopped", locked: true, peers: [] }) : "daemon: stopped");
    return 0;
  }
  const children = readChildrenInfo(ctx.paths)?.children ?? [];
  const failed = children.filter((c) => c.state === "failed");
  const sessionDown = children.some((c) => c.name === "session" && c.state !== "running");
  if (sessionDown) {
    // The session answers nothing while it is down; say what the supervisor knows instead.
    if (ctx.json) ctx.out(safeJson({ daemon: "running", locked: true, peers: [], services: children }));
    else {
      ctx.out("daemon: running");
      for (const c of children) ctx.out(`${c.name}: ${c.state}${c.message ? ` — ${c.message}` : c.lastExit ? ` (last exit: ${c.lastExit})` : ""}`);
    }
    return 0;
  }
  const client = await connectSession(ctx.paths);
  const s = await client.getStatus({});
  const peers = s.locked ? [] : (await client.listPeers({})).peers;
  if (ctx.json) {
    ctx.out(
      safeJson({
        daemon: "running",
        locked: s.locked,
        identity: s.identityExists,
        uid: s.uid,
        name: s.name,
        fingerprint: s.fingerprint,
        listen: s.listenAddress,
        network: s.networkAvailable,
        weakKdf: s.weakKdf,
        ipc: readIpcInfo(ctx.paths).session,
        services: children,
        peers: peers.map((p) => ({
          uid: p.uid,
          name: p.name,
          state: presenceName(p.presence),
          address: p.address,
          stats: p.stats ? statsJson(p.stats) : null,
        })),
      }),
    );
    return 0;
  }
  ctx.out(`daemon: running${s.locked ? " (locked)" : ""}`);
  for (const c of failed) ctx.out(`${c.name}: failed — ${c.message ?? ""}`);
  for (const c of children.filter((c) => c.state === "restarting")) ctx.out(`${c.name}: restarting after ${c.lastExit ?? "an exit"} (${c.restarts} restarts so far)`);
  if (!s.identityExists) ctx.out("identity: none (run jarvis init)");
  // A profile made by test tooling records cheap Argon2id parameters; a person must see that.
  if (s.weakKdf) ctx.out("warning: this profile's password hashing is weaker than the default (a test profile?)");
  if (!s.locked) {
    ctx.out(`identity: ${printable(s.name)} ${s.uid}`);
    ctx.out(`fingerprint: ${formatFingerprint(s.fingerprint)}`);
    ctx.out(`listening: ${s.listenAddress || "no"}`);
    for (const p of peers) ctx.out(`  ${presenceName(p.presence).padEnd(5)} ${printable(p.name)} ${p.uid.slice(0, 8)} ${p.address}`);
  }
  return 0;
}

function statsJson(stats: NonNullable<Awaited<ReturnType<SessionClient["listPeers"]>>["peers"][number]["stats"]>) {
  const n = (v: bigint) => Number(v);
  return {
    connectAttempts: n(stats.connectAttempts),
    connectSuccesses: n(stats.connectSuccesses),
    connectFailures: n(stats.connectFailures),
    bytesSent: n(stats.bytesSent),
    bytesReceived: n(stats.bytesReceived),
    messagesSent: n(stats.messagesSent),
    messagesReceived: n(stats.messagesReceived),
    connectedDurationMs: n(stats.connectedDurationMs),
    rttMs: stats.rttMs,
    lastErrorCode: stats.lastErrorCode,
    lastError: stats.lastError,
  };
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
  const client = await connectSession(ctx.paths);
  const password = await readPassword(flagValue(ctx.args, "password-file"));
  await client.deleteIdentity({ password });
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
    if (error instanceof ConnectError && error.code === Code.AlreadyExists) await undo(ctx, false);
    else await undo(ctx, started);
    throw error;
  }
}
