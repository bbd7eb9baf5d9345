import { formatFingerprint } from "@jarvis/core";
import { connectSession, type SessionClient } from "../connection.js";
import { readChildrenInfo, readIpcInfo, runningDaemonPid } from "../daemon-files.js";
import { profileProcesses } from "../profile-processes.js";
import { sessionHealth } from "../health-check.js";
import { presenceName, safeJson, printable } from "../format.js";
import type { CommandContext } from "../context.js";

export async function status(ctx: CommandContext): Promise<number> {
  if (runningDaemonPid(ctx.paths) === undefined) {
    const strays = profileProcesses(ctx.paths.home);
    if (strays.length > 0) {
      const pids = strays.map((p) => `${p.role} ${p.pid}`).join(", ");
      ctx.out(ctx.json ? safeJson({ daemon: "unreachable", health: "unknown", locked: true, peers: [], processes: strays }) : `daemon: unreachable (its run/ files are missing; processes: ${pids}); stop it with jarvis down`);
      return 0;
    }
    ctx.out(ctx.json ? safeJson({ daemon: "stopped", health: "unknown", locked: true, peers: [] }) : "daemon: stopped");
    return 0;
  }
  const children = readChildrenInfo(ctx.paths)?.children ?? [];
  const failed = children.filter((c) => c.state === "failed");
  const sessionDown = children.some((c) => c.name === "session" && c.state !== "running");
  if (sessionDown) {
    // The session answers nothing while it is down; say what the supervisor knows instead.
    if (ctx.json) ctx.out(safeJson({ daemon: "running", health: "unknown", locked: true, peers: [], services: children }));
    else {
      ctx.out("daemon: running");
      for (const c of children) ctx.out(`${c.name}: ${c.state}${c.message ? ` — ${c.message}` : c.lastExit ? ` (last exit: ${c.lastExit})` : ""}`);
    }
    return 0;
  }
  let client: SessionClient;
  try {
    client = await connectSession(ctx.paths);
  } catch {
    // The supervisor runs but its session does not answer yet (starting, or restarting after
    // a crash or a deleted run/): that is a state to show, not an error.
    ctx.out(ctx.json ? safeJson({ daemon: "running", health: "unknown", locked: true, peers: [], services: children, session: "unreachable" }) : "daemon: running (the session service is not answering yet)");
    return 0;
  }
  const [s, health] = await Promise.all([client.getStatus({}), sessionHealth(ctx.paths)]);
  const peers = s.locked ? [] : (await client.listPeers({})).peers;
  if (ctx.json) {
    ctx.out(
      safeJson({
        daemon: "running",
        health,
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
  ctx.out(`health: ${health.replace("_", " ")}`);
  for (const c of failed) ctx.out(`${c.name}: failed — ${c.message ?? ""}`);
  for (const c of children.filter((c) => c.state === "restarting")) ctx.out(`${c.name}: restarting after ${c.lastExit ?? "an exit"} (${c.restarts} restarts so far)`);
  for (const c of children.filter((c) => c.state === "starting")) ctx.out(`${c.name}: starting (its health check has not answered yet)`);
  for (const c of children.filter((c) => c.state === "running" && c.health === "silent")) ctx.out(`${c.name}: not answering its health check (restarted if it stays silent)`);
  if (!s.identityExists) ctx.out("identity: none (run jarvis init)");
  // A profile made by test tooling records cheap Argon2id parameters; a person must see that.
  if (s.weakKdf) ctx.out("warning: this profile's password hashing is weaker than the default (a test profile?)");
  if (!s.locked) {
    ctx.out(`identity: ${printable(s.name)} ${s.uid}`);
    ctx.out(`fingerprint: ${formatFingerprint(s.fingerprint)}`);
    ctx.out(`listening: ${printable(s.listenAddress) || "no"}`);
    for (const p of peers) ctx.out(`  ${presenceName(p.presence).padEnd(5)} ${printable(p.name)} ${p.uid.slice(0, 8)} ${printable(p.address)}`);
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
