import { existsSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ensurePrivateDir, foregroundClock, profilePaths, writeFileAtomic, type Logger, type ProfilePaths, type TimerHandle } from "@jarvis/core";
import { createServiceLogger, formatIpcAddress, onShutdownSignal, parseIpcAddress, type IpcAddress, type PipeMessage } from "@jarvis/rpc";
import { NetworkService } from "@jarvis/proto/jarvis/network/v1/network_service";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { SupervisedChild } from "./supervised-child.js";
import { healthProbe } from "./health-check.js";
import { ipcInUse } from "./ipc-preflight.js";
import { KeyCustody } from "./key-custody.js";
import { DEFAULT_MAX_LOG_BYTES, rotateLogs } from "./log-rotation.js";
import { ROLE_ENV, profileProcesses, stopProfileProcesses } from "./profile-processes.js";
import { ensureToken, readToken, requestedIpc, runningDaemonPid, startErrorFile, writeChildrenInfo, writeIpcInfo } from "./daemon-files.js";

export interface DaemonOptions {
  home: string;
  listen: string;
  advertise: string;
  ipc: string | undefined;
  logLevel: string;
  /**
   * A network service run by someone else (another container): this supervisor then runs only
   * the session, pointed at it. Restarts of the session still come back unlocked.
   */
  externalNetwork?: IpcAddress;
}

/** Both children get their own 5 s stop grace (then SIGKILL), one after the other. */
const SHUTDOWN_GRACE_MS = 12_000;
/** How long a service may take to answer its health check on first start. */
const FIRST_START_TIMEOUT_MS = 20_000;
/** How often the supervisor checks that run/ (its pid file) still exists. */
const RUN_DIR_CHECK_MS = 1_000;
/** How often log sizes are checked (rotation bounds disk use, see log-rotation.ts). */
const LOG_ROTATION_CHECK_MS = 10_000;

/**
 * The supervisor (`jarvis daemon`): runs the network and session services as child
 * processes, watches their grpc.health.v1, restarts a crashed or hung one with backoff (an unlocked session comes back unlocked:
 * this process holds the store key while unlocked), and on SIGTERM stops session first (so it
 * can lock and say goodbye), then network. One per profile: the pid file is created
 * exclusively, and a stale one (dead pid) is replaced.
 */
export async function runDaemon(options: DaemonOptions): Promise<number> {
  // Everything the node writes (logs, sockets, store) is for its owner only.
  process.umask(0o077);
  const paths = profilePaths(options.home);
  ensurePrivateDir(paths.home);
  ensurePrivateDir(paths.runDir);
  ensurePrivateDir(paths.logsDir);
  rmSync(startErrorFile(paths), { force: true });
  const others = profileProcesses(paths.home).filter((p) => p.role === "daemon");
  if (runningDaemonPid(paths) !== undefined || others.length > 0) return failStart(paths, "a daemon is already running for this profile");
  // Services orphaned by a supervisor that was killed exit by themselves within ~2 s; make
  // sure they are gone before ours try to take the same sockets.
  await stopProfileProcesses(paths.home, 3_000);
  const external = options.externalNetwork;
  const requested = requestedIpc(paths, options.ipc);
  if (external) requested.network = external;
  // A chosen IPC address someone else listens on fails now, before any service (or the token)
  // exists: see ipc-preflight.ts. (An external network service is meant to be listening.)
  const ours = external ? ([["session", requested.session]] as const) : ([["session", requested.session], ["network", requested.network]] as const);
  for (const [name, address] of ours) {
    const busy = await ipcInUse(address);
    if (busy) return failStart(paths, `the ${name} service cannot listen on ${formatIpcAddress(address)}: ${busy}; choose another with --ipc (or port 0 for any free one)`);
  }
  try {
    writeFileSync(paths.pidFile, String(process.pid), { flag: "wx", mode: 0o600 });
  } catch {
    return failStart(paths, "another daemon is starting for this profile");
  }
  const log = createServiceLogger(paths.home, "daemon", options.logLevel);
  if (requested.session.kind === "tcp") ensureToken(paths);
  const bound: { session?: IpcAddress; network?: IpcAddress } = { network: external };
  const custody = new KeyCustody();
  const waiters = new Map<string, (address: IpcAddress | undefined) => void>();

  const envFor = (role: string) => () => ({
    ...process.env,
    JARVIS_HOME: paths.home,
    JARVIS_LISTEN: options.listen,
    JARVIS_ADVERTISE: options.advertise,
    // A restarted service gets the port its predecessor bound, so clients keep finding it.
    JARVIS_SESSION_IPC: formatIpcAddress(bound.session ?? requested.session),
    JARVIS_NETWORK_IPC: formatIpcAddress(bound.network ?? requested.network),
    JARVIS_LOG_LEVEL: options.logLevel,
    JARVIS_SUPERVISED: "1",
    [ROLE_ENV]: role,
  });
  const onMessage = (message: PipeMessage, child: SupervisedChild) => {
    if (message.type === "address") {
      const address = parseIpcAddress(message.address);
      bound[child.name as "session" | "network"] = address;
      if (child.name === "session") writeIpcInfo(paths, { session: address, network: bound.network ?? requested.network, listen: options.listen });
    } else if (child.name === "session" && message.type === "key") {
      custody.hold(message.key);
    } else if (child.name === "session" && message.type === "wipe") {
      custody.wipe();
    }
  };
  const children: SupervisedChild[] = [];
  const publish = () => {
    try {
      writeChildrenInfo(paths, { children: children.map((c) => c.snapshot()) });
    } catch {
      // run/ is gone; the run-dir check restores it
    }
  };
  const onChange = (child: SupervisedChild) => {
    publish();
    // Started means its health answered; one that dies or hangs before that is a failed
    // start, not something to retry.
    const { state } = child.snapshot();
    if (state === "running") waiters.get(child.name)?.(bound[child.name as "session" | "network"]);
    else if (state !== "starting") waiters.get(child.name)?.(undefined);
  };
  // The token as last read: if run/ is deleted, checks keep working until it is restored.
  const tokens = new Map<string, string | undefined>();
  const healthOf = (name: "session" | "network", service: string) =>
    healthProbe(() => {
      const address = bound[name];
      if (!address) return undefined;
      tokens.set(name, readToken(paths, address) ?? tokens.get(name));
      return { address, token: tokens.get(name) };
    }, service);
  const child = (name: "session" | "network", specifier: string, service: string, extra: Partial<ConstructorParameters<typeof SupervisedChild>[0]> = {}) => {
    const c: SupervisedChild = new SupervisedChild({
      name,
      entry: serviceEntry(specifier),
      env: envFor(name),
      logsDir: paths.logsDir,
      log,
      clock: foregroundClock,
      onMessage,
      onChange: () => onChange(c),
      health: { probe: healthOf(name, service) },
      ...extra,
    });
    children.push(c);
    return c;
  };
  const network = external ? undefined : child("network", "@jarvis/network/main", NetworkService.typeName);
  const session = child("session", "@jarvis/session/main", SessionService.typeName, {
    // A restarted session is handed the key at once: the node is back as the person left it.
    onSpawn: (c) => {
      const key = custody.copy();
      if (!key) return;
      c.send({ type: "key", key });
      key.fill(0);
      log.info({}, "handed the store key to the restarted session");
    },
  });

  const stopAll = async () => {
    await session.stop();
    await network?.stop();
    custody.wipe();
  };
  const firstStart = async (c: SupervisedChild) => {
    let timer: TimerHandle | undefined;
    const address = new Promise<IpcAddress | undefined>((resolve) => {
      waiters.set(c.name, resolve);
      timer = foregroundClock.setTimeout(() => resolve(undefined), FIRST_START_TIMEOUT_MS);
    });
    c.start();
    const got = await address;
    // The timer keeps the process alive: a daemon that gave up must not linger until it fires.
    timer?.cancel();
    waiters.delete(c.name);
    return got;
  };
  for (const c of children) {
    if (await firstStart(c)) continue;
    await stopAll();
    rmSync(paths.pidFile, { force: true });
    const wanted = formatIpcAddress(c.name === "session" ? requested.session : requested.network);
    log.error({ child: c.name, wanted }, "service did not start");
    return failStart(paths, `the ${c.name} service could not listen on ${wanted} (is it in use?); see ${paths.logsDir}/${c.name}.stderr.log`);
  }
  log.info({ pid: process.pid, session: bound.session, network: bound.network, externalNetwork: external !== undefined }, "daemon started");
  // Restored in this order: the session first (it owns what clients connect to).
  const runDirCheck = setInterval(() => void restoreRunDir(paths, log, requested, [session, ...(network ? [network] : [])]), RUN_DIR_CHECK_MS);
  const maxLogBytes = Number(process.env.JARVIS_LOG_MAX_BYTES) || DEFAULT_MAX_LOG_BYTES;
  const logRotation = setInterval(() => {
    const rotated = rotateLogs(paths.logsDir, maxLogBytes);
    if (rotated.length > 0) log.info({ rotated }, "logs rotated");
  }, LOG_ROTATION_CHECK_MS);
  return new Promise<number>((resolve) => {
    // Session first, so it can lock and say goodbye through the network; then the network.
    onShutdownSignal(
      async () => {
        clearInterval(runDirCheck);
        clearInterval(logRotation);
        await stopAll();
        for (const file of [paths.pidFile, paths.ipcFile]) rmSync(file, { force: true });
        rmSync(`${paths.runDir}/children.json`, { force: true });
        resolve(0);
      },
      log,
      SHUTDOWN_GRACE_MS,
    );
  });
}

/**
 * Someone deleted run/ under a running node: put the pid file back (so the CLI finds us) and
 * restart both services (so their sockets and the token exist again). The key is kept: the
 * node comes back unlocked.
 */
let restoring = false;

async function restoreRunDir(paths: ProfilePaths, log: Logger, requested: { session: IpcAddress }, children: SupervisedChild[]): Promise<void> {
  if (restoring || existsSync(paths.pidFile)) return;
  restoring = true;
  log.warn({ runDir: paths.runDir }, "run/ was removed while running; restoring it and restarting the services");
  ensurePrivateDir(paths.runDir);
  writeFileAtomic(paths.pidFile, String(process.pid));
  if (requested.session.kind === "tcp") ensureToken(paths);
  // One at a time: the session first (it owns what clients connect to), then the network.
  try {
    for (const c of children) await c.recycle();
  } finally {
    restoring = false;
  }
}

function failStart(paths: ProfilePaths, message: string): number {
  try {
    writeFileAtomic(startErrorFile(paths), message);
  } catch {
    // the message still goes to stderr
  }
  process.stderr.write(`jarvis: ${message}\n`);
  return 1;
}

/**
 * A service's published entry point (its package's "./main" export), resolved like any
 * import: through the workspace link to the real file, never by a path into its internals.
 */
function serviceEntry(specifier: string): string {
  return fileURLToPath(import.meta.resolve(specifier));
}
