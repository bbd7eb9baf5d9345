import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestNode } from "./helpers/cli.js";
import { waitForPeers } from "./helpers/mesh.js";

/**
 * The Go example (examples/go) built with Debian's Go toolchain, grpc-go and protoc-gen-go(-grpc)
 * from stubs generated here from proto/, run against real nodes. GOPATH mode: no module proxy.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const APT_HINT = "apt-get install -y golang-go golang-google-grpc-dev protoc-gen-go protoc-gen-go-grpc golang-github-golang-protobuf-1-5-dev";
const TOOL_TIMEOUT_MS = 180_000;
const SESSION_PROTOS = ["jarvis/session/v1/session_service.proto", "jarvis/session/v1/resources.proto", "jarvis/session/v1/events.proto", "jarvis/peer/v1/card.proto"];

/** Builds the example into dir/jarvis-client; the import path of the stubs is jarvis.example/gen/<proto dir>. */
function buildExample(dir: string): string {
  const pkg = join(dir, "src", "jarvis.example");
  mkdirSync(join(pkg, "gen"), { recursive: true });
  mkdirSync(join(pkg, "client"), { recursive: true });
  copyFileSync(join(ROOT, "examples/go/main.go"), join(pkg, "client", "main.go"));
  // protoc's M options name a Go package for each file, so the .proto files need no go_package.
  const mapping = SESSION_PROTOS.map((file) => `M${file}=jarvis.example/gen/${file.slice(0, file.lastIndexOf("/"))}`);
  const args = ["-I.", `--go_out=${join(pkg, "gen")}`, `--go-grpc_out=${join(pkg, "gen")}`, "--go_opt=paths=source_relative", "--go-grpc_opt=paths=source_relative"];
  for (const m of mapping) args.push(`--go_opt=${m}`, `--go-grpc_opt=${m}`);
  execFileSync("protoc", [...args, ...SESSION_PROTOS], { cwd: join(ROOT, "proto"), stdio: "pipe", timeout: TOOL_TIMEOUT_MS });
  const binary = join(dir, "jarvis-client");
  execFileSync("go", ["build", "-o", binary, "jarvis.example/client"], {
    cwd: dir,
    stdio: "pipe",
    timeout: TOOL_TIMEOUT_MS,
    env: { ...process.env, GO111MODULE: "off", GOPATH: `${dir}:/usr/share/gocode`, GOCACHE: join(dir, "cache"), GOFLAGS: "" },
  });
  return binary;
}

describe("Go grpc-go client generated from proto/ (examples/go)", () => {
  const alice = new TestNode("alice");
  const bob = new TestNode("bob");
  let dir = "";
  let binary = "";
  let toolchainError: Error | undefined;

  beforeAll(async () => {
    try {
      for (const tool of ["/usr/bin/go", "/usr/bin/protoc-gen-go", "/usr/bin/protoc-gen-go-grpc"]) {
        if (!existsSync(tool)) throw new Error(`${tool} is missing (${APT_HINT})`);
      }
      dir = mkdtempSync(join(tmpdir(), "jv-go-"));
      binary = buildExample(dir);
    } catch (error) {
      const output = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
      toolchainError = new Error(`building examples/go failed: ${(error as Error).message}\n${output}\n(${APT_HINT})`);
      return;
    }
    await Promise.all([alice.init(), bob.init()]);
    const [codeA, codeB] = await Promise.all([alice.linkCode(), bob.linkCode()]);
    await alice.ok(["contact", "add", codeB]);
    await bob.ok(["contact", "add", codeA]);
    await Promise.all([waitForPeers(alice, 1), waitForPeers(bob, 1)]);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("gets status and contacts, sends, reads the ErrorInfo reason and follows Subscribe to DELIVERED", async () => {
    if (toolchainError) throw toolchainError;
    const text = `hello from go ${Date.now()}`;
    const target = `unix://${join(alice.home, "run", "session.sock")}`;
    const run = spawnSync(binary, ["-target", target, "-to", "bob", "-text", text, "-timeout", "30s"], { encoding: "utf8", timeout: 45_000, killSignal: "SIGKILL" });
    const output = `exit ${run.status ?? run.signal}\n${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    const steps = run.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const byName = (name: string) => steps.find((s) => s.step === name) ?? {};
    expect(byName("status"), output).toMatchObject({ name: "alice", locked: false });
    expect(JSON.stringify(byName("contacts").contacts)).toContain('"name":"bob"');
    expect(byName("invalid_argument")).toEqual({ step: "invalid_argument", code: "InvalidArgument", reason: "empty-text" });
    expect(byName("delivered").id).toBe(byName("send").id);
    expect(steps.at(-1)).toEqual({ step: "done" });
    const bobView = await bob.json<{ text: string }[]>(["history", "alice"]);
    expect(bobView.map((m) => m.text)).toContain(text);
  }, 60_000);
});
