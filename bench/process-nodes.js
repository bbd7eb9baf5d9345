// Real nodes as separate processes: a cheap-KDF test profile, then `jarvis up` (the supervisor
// starts the network and session services as children), driven through the session's public
// gRPC API. Mirrors test/helpers/cli.ts TestNode for plain-JS bench code.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { SESSION_CLIENT_TUNING } from "@jarvis/session/client-codecs";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";
import { createTestProfile, TEST_PASSWORD } from "@jarvis/session/testing";
import { receivedCounter } from "./nodes.js";

const JARVIS = fileURLToPath(new URL("../clients/cli/bin/jarvis.js", import.meta.url));
const run = promisify(execFile);

function jarvis(home, args, env = {}) {
  return run(process.execPath, [JARVIS, "--home", home, ...args], { env: { ...process.env, JARVIS_PASSWORD: TEST_PASSWORD, ...env }, timeout: 60_000 });
}

/** VmRSS and VmHWM (peak) of a live process, in MB; zeros if it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return { rssMB: Math.round(kb("VmRSS") / 102.4) / 10, peakMB: Math.round(kb("VmHWM") / 102.4) / 10 };
  } catch {
    return { rssMB: 0, peakMB: 0 };
  }
}

/** `env` is added to the environment of `jarvis up`, which its services inherit. */
export async function startProcessNode(name, { env = {} } = {}) {
  // Short path: the session's Unix socket lives under it and must fit in ~107 bytes.
  const home = mkdtempSync(join(tmpdir(), `jv-b${name.slice(0, 3)}-`));
  await createTestProfile(home, { name, password: TEST_PASSWORD });
  await jarvis(home, ["up", "--listen", "127.0.0.1:0"], env);
  const read = (file) => readFileSync(join(home, "run", file), "utf8");
  const ipc = JSON.parse(read("ipc.json"));
  const address = parseIpcAddress(ipc.session);
  const token = address.kind === "tcp" ? read("token").trim() : undefined;
  const client = createClient(SessionService, createIpcTransport(address, { token, ...SESSION_CLIENT_TUNING }));
  const children = JSON.parse(read("children.json")).children;
  const pids = Object.fromEntries(children.map((c) => [c.name, c.pid]));
  const daemonPid = Number(read("daemon.pid"));
  return {
    name,
    client,
    /** The session's public API address and token, for a client in another process. */
    session: { address: ipc.session, token },
    pids: { daemon: daemonPid, ...pids },
    memory() {
      return Object.fromEntries(Object.entries(this.pids).map(([service, pid]) => [service, memoryOf(pid)]));
    },
    async close() {
      await jarvis(home, ["down"]).catch(() => {});
      try {
        process.kill(daemonPid, "SIGKILL");
      } catch {
        // already gone: `down` stopped it
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function linkProcessNodes(a, b) {
  const codeOf = async (node) => (await node.client.getIdentity({})).identity.linkCode;
  await a.client.addContact({ source: { case: "linkCode", value: await codeOf(b) } });
  await b.client.addContact({ source: { case: "linkCode", value: await codeOf(a) } });
}

/**
 * alice and bob as process trees, each other's contacts, bob's subscriber counting, and a
 * warm-up message through (the channel is up). `aliceEnv` and `bobEnv` go to alice's and
 * bob's `jarvis up` (e.g. the CPU profile hook on either side). `subscriber(bob)`, if given,
 * starts bob's subscriber instead of the in-process receivedCounter and returns a counter
 * with warmUp(aliceClient) (subscriber-process.js).
 * close() stops everything started, also after a partial start.
 */
export async function startLinkedPair({ aliceEnv = {}, bobEnv = {}, subscriber } = {}) {
  const started = [];
  let received;
  const close = async () => {
    received?.stop();
    for (const node of started.splice(0)) await node.close();
  };
  try {
    const alice = await startProcessNode("alice", { env: aliceEnv });
    started.push(alice);
    const bob = await startProcessNode("bob", { env: bobEnv });
    started.push(bob);
    await linkProcessNodes(alice, bob);
    if (subscriber) {
      received = subscriber(bob);
      await received.warmUp(alice.client);
    } else {
      received = receivedCounter(bob);
      await alice.client.sendMessage({ conversation: "bob", text: "warm-up" });
      await received.until(1);
    }
    return { alice, bob, received, close };
  } catch (error) {
    await close();
    throw error;
  }
}
