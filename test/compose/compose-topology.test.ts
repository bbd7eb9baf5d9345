import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { once } from "node:events";
import { createClient } from "@connectrpc/connect";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/cli.js";
import { childPid, killService } from "../running/processes.js";

// The compose topology as plain processes (no container engine runs here): per node the network
// service and the session container's command (the supervisor, running only the session
// against the network's socket), each started through docker/entrypoint.sh with the commands
// of docker-compose.yml and its environment, sharing one directory as the node's "volume";
// then docker/mesh-init.js creates and links the identities and docker/health.js probes them.
const root = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "compose-test-password";
const names = ["alice", "bob"] as const;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const child = spawn(process.execPath, args, { cwd: root, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

/** The compose env only: nothing of this test process's own environment may leak in. */
function cleanEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...base, ...env };
}

describe("compose topology as processes", () => {
  let base: string;
  const children: ChildProcess[] = [];
  const home = (name: string) => join(base, name);

  const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as { services: Record<string, { command: string[] }> };
  const startService = (name: string, role: "network" | "session") => {
    // The compose file's command, with the volume mounted at /data replaced by this node's
    // directory; the same variables, except a loopback port 0 for the fixed 0.0.0.0:7000 and
    // no JARVIS_ADVERTISE (there is no <name>-network host name outside compose).
    const [program, ...args] = (compose.services[`${name}-${role}`]?.command ?? []).map((arg) => arg.replaceAll("/data", home(name)));
    expect(program).toBe("node");
    const env = cleanEnv({ JARVIS_HOME: home(name), JARVIS_LISTEN: "127.0.0.1:0", JARVIS_LOG_LEVEL: "info" });
    const child = spawn("sh", [join(root, "docker/entrypoint.sh"), process.execPath, ...args], { cwd: root, env, stdio: "ignore" });
    children.push(child);
  };

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), "jarvis-compose-"));
    for (const name of names) {
      startService(name, "network");
      startService(name, "session");
    }
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    }
    rmSync(base, { recursive: true, force: true });
  });

  it("reports the session unhealthy while it has no unlocked identity", async () => {
    await eventually(async () => (existsSync(join(home("alice"), "run/session.sock")) ? true : undefined), 30_000, "alice's session socket");
    const result = await run(["docker/health.js", "session"], { JARVIS_HOME: home("alice") });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/NOT_SERVING/);
  });

  it("mesh-init creates and links the identities, the nodes turn healthy, and a message crosses", async () => {
    const codes = join(base, "codes");
    const init = await run(["docker/mesh-init.js"], {
      JARVIS_MESH_NODES: names.map((n) => `${n}=${home(n)}`).join(","),
      JARVIS_PASSWORD: PASSWORD,
      JARVIS_MESH_CODES: codes,
    });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/alice: identity created/);
    expect(init.stdout).toMatch(/alice: added bob/);
    expect(init.stdout).toMatch(/attach a TUI: +docker compose exec alice-session node docker\/attach-tui\.js/);
    for (const name of names) expect(readFileSync(join(codes, `${name}.link`), "utf8")).toMatch(/^jarvis:\/\//);

    for (const name of names) {
      const network = await run(["docker/health.js", "network"], { JARVIS_HOME: home(name) });
      expect(network.code, network.stderr).toBe(0);
      const session = await run(["docker/health.js", "session"], { JARVIS_HOME: home(name) });
      expect(session.code, session.stderr).toBe(0);
    }

    // Running it again only finds everything in place.
    const again = await run(["docker/mesh-init.js"], { JARVIS_MESH_NODES: names.map((n) => `${n}=${home(n)}`).join(","), JARVIS_PASSWORD: PASSWORD });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/identity created|added/);

    const client = (name: string) => createClient(SessionService, createIpcTransport(parseIpcAddress(`unix:${join(home(name), "run/session.sock")}`)));
    const alice = client("alice");
    const bob = client("bob");
    await alice.sendMessage({ conversation: "bob", text: "hello from a container" });
    const received = await eventually(
      async () => (await bob.listMessages({ conversation: "alice" })).messages.find((m) => m.text === "hello from a container"),
      30_000,
      "bob to receive alice's message",
    );
    expect(received.text).toBe("hello from a container");
  });

  it("a session process killed -9 is restarted by the container's supervisor, unlocked, with no mesh-init", async () => {
    const alice = { home: home("alice"), name: "alice" };
    const before = childPid(alice, "session");
    expect(before).toBeTypeOf("number");
    const after = await killService(alice, "session");
    expect(after).not.toBe(before);
    // Healthy again by itself: unlocked (the supervisor handed over the key) and networked.
    const healthy = await eventually(async () => {
      const result = await run(["docker/health.js", "session"], { JARVIS_HOME: home("alice") });
      return result.code === 0 ? result : undefined;
    }, 60_000, "alice's restarted session to be healthy");
    expect(healthy.stderr).toBe("");

    const client = (name: string) => createClient(SessionService, createIpcTransport(parseIpcAddress(`unix:${join(home(name), "run/session.sock")}`)));
    expect((await client("alice").getStatus({})).locked).toBe(false);
    await client("bob").sendMessage({ conversation: "alice", text: "after the crash" });
    const received = await eventually(
      async () => (await client("alice").listMessages({ conversation: "bob" })).messages.find((m) => m.text === "after the crash"),
      60_000,
      "alice's restarted session to receive bob's message",
    );
    expect(received.outgoing).toBe(false);
  });
});
