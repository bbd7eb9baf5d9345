import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_PASSWORD, TestNode, eventually } from "./helpers/cli.js";
import { waitForPeers } from "./helpers/mesh.js";

/**
 * Interop (design §3, §11): a client generated from proto/ with stock Debian tools (protoc,
 * grpc_python_plugin, python3-grpcio) runs a real flow against running nodes, over the Unix socket
 * and over loopback TCP with the bearer token (§6). The client is the example in examples/python,
 * which also resumes Subscribe from its cursor after the session service is killed and restarted.
 */

// Debian's interpreter on purpose: the python3 on PATH may be another installation (pyenv)
// that does not see python3-grpcio.
const PYTHON = "/usr/bin/python3";
const PROTOC = "protoc";
const GRPC_PLUGIN = "/usr/bin/grpc_python_plugin";
const APT_HINT = "apt-get install -y python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc";
const CLIENT = fileURLToPath(new URL("../examples/python/jarvis_client.py", import.meta.url));
const PROTO_DIR = fileURLToPath(new URL("../proto", import.meta.url));
// The client waits this long for DELIVERED; its process is killed a little after that.
const DELIVERY_TIMEOUT_S = 20;
const PROCESS_TIMEOUT_MS = 45_000;
const TOOL_TIMEOUT_MS = 30_000;

/**
 * protoc needs google/protobuf/timestamp.proto, which Debian ships in libprotobuf-dev, only a
 * "Recommends" of protobuf-compiler. Without it, describe the well-known types from the
 * python3-protobuf runtime as a FileDescriptorSet for protoc's --descriptor_set_in (used only
 * for imports that are not found on the -I path).
 */
const WELL_KNOWN_TYPES_PY = `
import importlib, sys
from google.protobuf import descriptor_pb2
out = descriptor_pb2.FileDescriptorSet()
for name in ("any", "duration", "empty", "field_mask", "struct", "timestamp", "wrappers"):
    out.file.add().ParseFromString(importlib.import_module("google.protobuf.%s_pb2" % name).DESCRIPTOR.serialized_pb)
open(sys.argv[1], "wb").write(out.SerializeToString())
`;

/** Runs a tool to completion (bounded), failing with its output if it does not exit 0. */
function runTool(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: TOOL_TIMEOUT_MS, killSignal: "SIGKILL" });
  if (result.status !== 0) {
    const reason = result.error?.message ?? (result.signal ? `killed by ${result.signal}` : `exit ${result.status}`);
    throw new Error(`${what} failed (${reason}): ${`${result.stderr ?? ""}${result.stdout ?? ""}`.trim()}\nInstall with: ${APT_HINT}`);
  }
}

/** Generates the Python stubs for every .proto under proto/ into dir, with stock tools only. */
function generateStubs(dir: string): void {
  const protos = readdirSync(PROTO_DIR, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".proto") && (file.startsWith("jarvis/") || file.startsWith("grpc/") || file.startsWith("google/")))
    .map((file) => join(PROTO_DIR, file));
  const wellKnownTypes = join(dir, "well-known-types.binpb");
  runTool(PYTHON, ["-c", WELL_KNOWN_TYPES_PY, wellKnownTypes], "describing the protobuf well-known types");
  runTool(
    PROTOC,
    [
      `-I${PROTO_DIR}`,
      `--descriptor_set_in=${wellKnownTypes}`,
      `--python_out=${dir}`,
      `--grpc_out=${dir}`,
      `--plugin=protoc-gen-grpc=${GRPC_PLUGIN}`,
      ...protos,
    ],
    "protoc",
  );
}

interface PythonRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The JSON lines of stdout, one per step. */
  steps: Record<string, unknown>[];
}

const running = new Set<ChildProcess>();

/** Runs the example client to completion; SIGKILLed after PROCESS_TIMEOUT_MS. onStep sees each step as it is printed. */
function runClient(args: string[], onStep: (step: Record<string, unknown>) => void = () => {}): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, JARVIS_EXAMPLE_PASSWORD: TEST_PASSWORD };
    const child = spawn(PYTHON, [CLIENT, "--timeout", String(DELIVERY_TIMEOUT_S), "--password-env", "JARVIS_EXAMPLE_PASSWORD", ...args], { stdio: ["ignore", "pipe", "pipe"], env });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      const complete = stdout.slice(0, stdout.lastIndexOf("\n") + 1).length;
      stdout += text;
      for (const line of stdout.slice(complete, stdout.lastIndexOf("\n") + 1).split("\n")) {
        if (line.trim()) onStep(parseStep(line));
      }
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const steps = stdout
        .split("\n")
        .filter((line) => line.trim())
        .map(parseStep);
      resolve({ code, signal, stdout, stderr, steps });
    });
  });
}

function parseStep(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { step: "unparsed", line };
  }
}

/** The output line of one step, or an error showing everything the client printed. */
function step(run: PythonRun, name: string): Record<string, unknown> {
  const found = run.steps.find((s) => s.step === name);
  if (!found) throw new Error(`python client printed no "${name}" step:\n${describeRun(run)}`);
  return found;
}

function describeRun(run: PythonRun): string {
  return `exit ${run.code ?? run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/** The pid of a node's session service: the daemon's child running services/session/dist/main.js. */
function sessionPid(node: TestNode): number | undefined {
  const daemon = node.daemonPid();
  if (!daemon) return undefined;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid …: comm may contain spaces, so parse after the last ')'.
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== daemon) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").some((arg) => arg.endsWith("services/session/dist/main.js"))) return Number(name);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
}

interface HistoryEntry {
  id: string;
  from: string;
  outgoing: boolean;
  text: string;
  state: string;
}

/** Adds each node to the other's contacts with link codes. */
async function link(a: TestNode, b: TestNode): Promise<void> {
  const [codeA, codeB] = await Promise.all([a.linkCode(), b.linkCode()]);
  await a.ok(["contact", "add", codeB]);
  await b.ok(["contact", "add", codeA]);
}

describe("Python grpcio client generated from proto/ by protoc", () => {
  // The nodes exist (and are cleaned up) even if setup fails halfway; this is why the nodes are
  // created here rather than with linkedNodes(), which keeps them to itself until all is done.
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  // Session service on loopback TCP with a bearer token instead of the Unix socket.
  const carol = new TestNode("carol");
  const uids = { alice: "", bob: "", carol: "" };
  let stubs = "";
  // A missing toolchain fails every test with this error: vitest would only report the tests
  // as skipped if beforeAll threw it.
  let toolchainError: Error | undefined;
  const requireToolchain = () => {
    if (toolchainError) throw toolchainError;
  };

  beforeAll(async () => {
    try {
      const probe = spawnSync(PYTHON, ["-c", "import grpc, google.protobuf"], { encoding: "utf8", timeout: TOOL_TIMEOUT_MS });
      if (probe.status !== 0) {
        throw new Error(`${PYTHON} cannot import grpc (${APT_HINT}): ${probe.stderr || probe.error?.message || `exit ${probe.status}`}`);
      }
      if (!existsSync(GRPC_PLUGIN)) throw new Error(`${GRPC_PLUGIN} is missing (${APT_HINT})`);
      stubs = mkdtempSync(join(tmpdir(), "jv-pystubs-"));
      generateStubs(stubs);
    } catch (error) {
      toolchainError = error instanceof Error ? error : new Error(String(error));
      return;
    }

    await Promise.all([alice.init(), bob.init(), carol.init(["--ipc", "tcp://127.0.0.1:0"])]);
    for (const [name, node] of [["alice", alice], ["bob", bob], ["carol", carol]] as const) {
      uids[name] = (await node.json<{ uid: string }>(["status"])).uid;
    }
    await link(alice, bob);
    await link(carol, bob);
    await Promise.all([waitForPeers(alice, 1), waitForPeers(bob, 2), waitForPeers(carol, 1)]);
  }, 120_000);

  afterAll(async () => {
    for (const child of running) child.kill("SIGKILL");
    await Promise.all([alice.destroy(), bob.destroy(), carol.destroy()]);
    if (stubs) rmSync(stubs, { recursive: true, force: true });
  });

  it("runs status, health, contacts, send, subscribe-until-delivered over the Unix socket", async () => {
    requireToolchain();
    const text = `hello from python over unix ${Date.now()}`;
    const target = `unix://${join(alice.home, "run", "session.sock")}`;
    const run = await runClient(["--target", target, "--stubs", stubs, "--to", uids.bob, "--text", text]);
    expect(run.code, describeRun(run)).toBe(0);

    expect(step(run, "status")).toMatchObject({ uid: uids.alice, name: "alice", locked: false });
    expect(step(run, "health")).toMatchObject({ status: "SERVING" });
    expect(step(run, "contacts").contacts).toContainEqual({ uid: uids.bob, name: "bob" });
    const sent = step(run, "send");
    expect(sent.id).toMatch(/^[0-9a-f]{32}$/);
    const invalid = step(run, "invalid_argument");
    expect(invalid.code).toBe("INVALID_ARGUMENT");
    // The stable code, read from google.rpc.ErrorInfo in grpc-status-details-bin.
    expect(invalid.reason).toBe("empty-text");
    expect(String(invalid.details).length).toBeGreaterThan(5);
    const delivered = step(run, "delivered");
    expect(delivered).toMatchObject({ id: sent.id });
    expect(delivered.states).toContain("MESSAGE_STATE_DELIVERED");
    step(run, "done");

    const bobView = await bob.json<HistoryEntry[]>(["history", "alice"]);
    expect(bobView).toContainEqual(expect.objectContaining({ id: sent.id, from: uids.alice, outgoing: false, text }));
    const aliceView = await alice.json<HistoryEntry[]>(["history", "bob"]);
    expect(aliceView).toContainEqual(expect.objectContaining({ id: sent.id, outgoing: true, text, state: "delivered" }));
  }, 60_000);

  it("resumes Subscribe from its cursor after the session service is killed and restarted", async () => {
    requireToolchain();
    const text = `python before the restart ${Date.now()}`;
    const reply = `bob replies after the restart ${Date.now()}`;
    const cursorFile = join(stubs, "alice.cursor");
    let delivered = false;
    const target = `unix://${join(alice.home, "run", "session.sock")}`;
    // A later --timeout overrides runClient's (argparse keeps the last): a restart takes longer.
    const finished = runClient(
      ["--target", target, "--stubs", stubs, "--to", uids.bob, "--text", text, "--cursor-file", cursorFile, "--expect-text", reply, "--timeout", "40"],
      (s) => (delivered ||= s.step === "delivered"),
    );
    await eventually(async () => (delivered ? true : undefined), 30_000, "the example to see its message delivered");

    const killed = sessionPid(alice);
    expect(killed, "alice's session service process").toBeTypeOf("number");
    process.kill(killed as number, "SIGKILL");
    await eventually(async () => {
      const pid = sessionPid(alice);
      return pid !== undefined && pid !== killed ? pid : undefined;
    }, 20_000, "the supervisor to restart alice's session service");
    // Bob's node queues the reply until alice's node is back (the example unlocks it if the
    // restarted session came back locked).
    await bob.ok(["send", "alice", reply]);

    const run = await finished;
    expect(run.code, describeRun(run)).toBe(0);
    const deliveredAt = Number(step(run, "delivered").cursor);
    const resumed = run.steps.filter((s) => s.step === "resubscribe");
    expect(resumed.length, describeRun(run)).toBeGreaterThan(0);
    // It resumed after what it had processed, not from the start, and still got the reply.
    expect(Number(resumed[0]!.after_cursor)).toBeGreaterThanOrEqual(deliveredAt);
    const received = step(run, "received");
    expect(Number(received.cursor)).toBeGreaterThan(deliveredAt);
    expect(Number(readFileSync(cursorFile, "utf8"))).toBeGreaterThanOrEqual(Number(received.cursor));
    step(run, "done");
  }, 120_000);

  describe("over loopback TCP", () => {
    let target = "";
    let token = "";

    beforeAll(() => {
      if (toolchainError) return;
      const ipc = JSON.parse(readFileSync(join(carol.home, "run", "ipc.json"), "utf8")) as { session: string };
      target = ipc.session;
      token = readFileSync(join(carol.home, "run", "token"), "utf8").trim();
      expect(target).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(token).not.toBe("");
    });

    it("runs the same flow with the bearer token", async () => {
      requireToolchain();
      const text = `hello from python over tcp ${Date.now()}`;
      // "--token=" form: a base64url token may start with "-", which argparse would take for an option.
      const run = await runClient(["--target", target, `--token=${token}`, "--stubs", stubs, "--to", uids.bob, "--text", text]);
      expect(run.code, describeRun(run)).toBe(0);
      expect(step(run, "status")).toMatchObject({ uid: uids.carol, name: "carol", locked: false });
      expect(step(run, "health")).toMatchObject({ status: "SERVING" });
      expect(step(run, "contacts").contacts).toContainEqual({ uid: uids.bob, name: "bob" });
      expect(step(run, "invalid_argument").code).toBe("INVALID_ARGUMENT");
      const sent = step(run, "send");
      expect(step(run, "delivered")).toMatchObject({ id: sent.id });
      step(run, "done");

      const bobView = await bob.json<HistoryEntry[]>(["history", "carol"]);
      expect(bobView).toContainEqual(expect.objectContaining({ id: sent.id, from: uids.carol, text }));
    }, 60_000);

    it("gets UNAUTHENTICATED without the token or with a wrong one, and sends nothing", async () => {
      requireToolchain();
      const before = await carol.json<HistoryEntry[]>(["history", "bob"]);
      for (const tokenArgs of [[], [`--token=${token}x`]]) {
        const text = `must not be sent ${Date.now()}`;
        const run = await runClient(["--target", target, ...tokenArgs, "--stubs", stubs, "--to", uids.bob, "--text", text]);
        expect(run.code, describeRun(run)).toBe(1);
        // The very first call is refused, and the client stops there.
        expect(run.steps, describeRun(run)).toEqual([
          expect.objectContaining({ step: "status", ok: false, code: "UNAUTHENTICATED" }),
        ]);
      }
      expect(await carol.json<HistoryEntry[]>(["history", "bob"])).toHaveLength(before.length);
    }, 60_000);
  });
});
