import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createIpcTransport, errorCodeOf } from "@jarvis/rpc";
import { NetworkService } from "@jarvis/proto/jarvis/network/v1/network_service";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { eventually, TEST_PASSWORD, TestNode } from "../helpers/cli.js";
import { linkCodeOf, person } from "../security/peer-kit.js";
import { int, randomBytes, type Random } from "./fuzz-inputs.js";
import { callMethod, grpcFrame, problemWith, rawGrpcCall, UNDECODABLE_BODY, type Outcome } from "./fuzz-grpc.js";
import { randomMessage, type FieldPools } from "./fuzz-messages.js";
import { isAlive, memoryOf, servicePids } from "./fuzz-process.js";
import { scaled, seededRandom, seedFromEnv } from "./scale.js";

/**
 * Issue 20, every gRPC RPC of both services under random and structure-aware requests (built
 * field by field from the descriptors, fuzz-messages.ts) and under raw HTTP/2 bodies with
 * hand-made gRPC framing. Every answer must be OK or a status that says what was wrong (an
 * ErrorInfo reason, or one of connect's own request checks), never INTERNAL or UNKNOWN, and
 * never a hang; the service process must be the same one at the end. Calls that end the node
 * (Lock, Shutdown) run last.
 */
const CALLS_PER_METHOD = scaled(12, 400);
const RAW_PER_METHOD = scaled(4, 60);
const BOUND_MS = 20_000;
const NETWORK_MAIN = fileURLToPath(new URL("../../services/network/dist/main.js", import.meta.url));
const ADDRESSES = ["127.0.0.1:1", "[::1]:1", "127.0.0.1:0", "127.0.0.1:99999", "localhost:", "not an address", "\x1b[2J:1", "", "0.0.0.0:0", "[::]:0"];

/** Raw bodies no client library would send: garbage in a valid frame, lengths that lie, odd flags. */
function rawBody(random: Random, index: number, streaming: boolean): { kind: string; body: Buffer; headers?: Record<string, string> } {
  const garbage = randomBytes(random, int(random, 1, 512));
  // Random bytes sometimes decode as a valid request. For a unary method that is just one more
  // call with a typed answer, but a valid Subscribe is a stream that rightly stays open until its
  // client leaves, so no status comes: a first byte with wire type 7 (none exists) keeps the
  // body undecodable there. Valid streaming requests are the random-request half's job.
  if (streaming) garbage[0] = 0x07;
  switch (index % 7) {
    case 0:
      return { kind: "garbage-in-frame", body: grpcFrame(garbage) };
    case 1:
      return { kind: "length-past-end", body: grpcFrame(garbage, { length: garbage.length + int(random, 1, 1_000) }) };
    case 2:
      return { kind: "length-4GiB", body: grpcFrame(garbage, { length: 0xffffffff }) };
    case 3:
      return { kind: "compressed-flag-no-encoding", body: grpcFrame(garbage, { flag: 1 }) };
    case 4:
      return { kind: "unknown-encoding", body: grpcFrame(garbage, { flag: 1 }), headers: { "grpc-encoding": "snappy-x" } };
    case 5:
      return { kind: "cut-prefix", body: grpcFrame(garbage).subarray(0, int(random, 0, 4)) };
    default:
      return { kind: "two-frames", body: Buffer.concat([grpcFrame(garbage), grpcFrame(Buffer.alloc(0), { flag: 0x80 })]) };
  }
}

interface FuzzRun {
  outcomes: Outcome[];
  problems: string[];
  /** Raw bodies connect-node refused as undecodable (INTERNAL, see UNDECODABLE_BODY). */
  undecodable: number;
}

/** Fuzzes each method `perMethod` times with random requests, then raw bodies; collects problems. */
async function fuzzService(service: DescService, methods: DescMethod[], transport: Transport, socketPath: string, pools: FieldPools, random: Random, perMethod: number, rawPerMethod: number): Promise<FuzzRun> {
  const run: FuzzRun = { outcomes: [], problems: [], undecodable: 0 };
  for (const method of methods) {
    for (let i = 0; i < perMethod; i++) {
      const count = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming" ? int(random, 0, 6) : 1;
      const requests = Array.from({ length: count }, () => randomMessage(random, method.input, pools));
      const outcome = await callMethod(transport, service, method, requests, method.methodKind === "unary" ? BOUND_MS : 3_000);
      run.outcomes.push(outcome);
      const problem = problemWith(outcome, method);
      if (problem) run.problems.push(`${method.name} #${i}: ${problem}`);
    }
    for (let i = 0; i < rawPerMethod; i++) {
      const { kind, body, headers } = rawBody(random, i, method.methodKind !== "unary");
      const { status, message } = await rawGrpcCall(socketPath, `/${service.typeName}/${method.name}`, body, BOUND_MS, headers);
      run.outcomes.push({ method: `${method.name} (raw ${kind})`, code: status === "none" ? Code.Unknown : status === 0 ? "ok" : (status as Code), reason: undefined, message });
      if (status === Code.Internal && UNDECODABLE_BODY.test(message)) run.undecodable++;
      else if (status === Code.Internal || status === Code.Unknown || status === "none") run.problems.push(`${method.name} raw ${kind}: grpc-status ${status} ${message}`);
    }
  }
  return run;
}

function summary(run: FuzzRun): string {
  const byCode = new Map<string, number>();
  for (const o of run.outcomes) {
    const key = o.code === "ok" ? "OK" : Code[o.code];
    byCode.set(key, (byCode.get(key) ?? 0) + 1);
  }
  return `${run.outcomes.length} calls: ${[...byCode].map(([k, n]) => `${k} ${n}`).join(", ")} (of which INTERNAL from the server library for an undecodable raw body: ${run.undecodable})`;
}

describe("every session RPC under random and malformed requests, against a real node", () => {
  const node = new TestNode("fzg");
  const alice = person("alice");

  beforeAll(async () => {
    await node.init();
    await node.ok(["contact", "add", linkCodeOf(alice)]);
  }, 60_000);
  afterAll(() => node.destroy());

  it(`answers ${CALLS_PER_METHOD} random and ${RAW_PER_METHOD} raw requests per method with typed statuses, then Lock and Shutdown last`, async () => {
    const seed = seedFromEnv();
    console.log(`fuzz-grpc (session): seed ${seed} (replay with JARVIS_SEED=${seed})`);
    const random = seededRandom(seed);
    const pids = servicePids(node);
    const socketPath = join(node.home, "run", "session.sock");
    const transport = createIpcTransport({ kind: "unix", path: socketPath });
    const groupId = (await node.ok(["group", "create", "team", "alice"])).trim();
    const zed = linkCodeOf(person("zed"));
    const pools: FieldPools = {
      strings: ["alice", "contact:alice", `group:${groupId}`, groupId, alice.uid, linkCodeOf(alice), zed, zed.slice(0, -3), zed.replace("jarvis://", "jarvis://%%"), "team", "me"],
      addresses: ADDRESSES,
    };
    const last = new Set(["Lock", "Shutdown"]);
    const methods = SessionService.methods.filter((m) => !last.has(m.name));
    const started = performance.now();
    const run = await fuzzService(SessionService, methods, transport, socketPath, pools, random, CALLS_PER_METHOD, RAW_PER_METHOD);

    // Locked, every method again: FAILED_PRECONDITION and friends, still typed.
    const client = createClient(SessionService, transport);
    await client.lock({});
    const locked = await fuzzService(SessionService, methods, transport, socketPath, pools, random, 2, 0);
    expect((await client.getStatus({})).identityExists).toBe(true);
    await client.unlock({ password: TEST_PASSWORD });
    const seconds = (performance.now() - started) / 1000;
    const memory = memoryOf(pids.session);
    console.log(`fuzz-grpc (session): unlocked ${summary(run)}; locked ${summary(locked)}; ${seconds.toFixed(1)} s; session RSS ${memory.rssMiB.toFixed(1)} MiB (peak ${memory.peakMiB.toFixed(1)})`);
    expect([...run.problems, ...locked.problems]).toEqual([]);
    expect(servicePids(node)).toEqual(pids);
    expect((await client.getStatus({})).locked).toBe(false);

    // Shutdown with a random request: answered, then the session stops.
    const shutdown = SessionService.methods.find((m) => m.name === "Shutdown") as DescMethod;
    const outcome = await callMethod(transport, SessionService, shutdown, [randomMessage(random, shutdown.input, pools)], BOUND_MS);
    expect(problemWith(outcome, shutdown)).toBeUndefined();
    await eventually(async () => (isAlive(pids.session) ? undefined : true), 20_000, "the session to stop after Shutdown");
  }, scaled(240_000, 0));
});

describe("an error message quoting a huge input", () => {
  const node = new TestNode("fzm");
  beforeAll(() => node.init(), 60_000);
  afterAll(() => node.destroy());

  it("is cut short: a 200 KB unknown reference gets NOT_FOUND, and the same connection's next call works", async () => {
    const client = createClient(SessionService, createIpcTransport({ kind: "unix", path: join(node.home, "run", "session.sock") }));
    for (const length of [70_000, 200_000]) {
      const error = await client.getContact({ contact: "x".repeat(length) }).then(() => undefined, (e: unknown) => ConnectError.from(e));
      expect(error?.code, error?.rawMessage).toBe(Code.NotFound);
      expect(errorCodeOf(error)).toBe("unknown-contact");
      expect(error?.rawMessage.length).toBeLessThan(1_100);
      expect((await client.getStatus({})).identityExists).toBe(true);
    }
  });
});

describe("every network RPC under random and malformed requests, against a network service process", () => {
  const home = mkdtempSync(join(tmpdir(), "jv-fzn-"));
  const socketPath = join(home, "run", "network.sock");
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    mkdirSync(join(home, "run"), { recursive: true, mode: 0o700 });
    child = spawn(process.execPath, [NETWORK_MAIN], {
      env: { ...process.env, JARVIS_HOME: home, JARVIS_NETWORK_IPC: `unix:${socketPath}`, JARVIS_LISTEN: "127.0.0.1:0", JARVIS_LOG_LEVEL: "info" },
      stdio: "ignore",
    });
    const client = createClient(NetworkService, createIpcTransport({ kind: "unix", path: socketPath }));
    await eventually(async () => ((await client.getStatus({})) ? true : undefined), 20_000, "the network service to answer");
  }, 30_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(home, { recursive: true, force: true });
  });

  it(`answers ${CALLS_PER_METHOD} random and ${RAW_PER_METHOD} raw requests per method (Configure, Link and Dial included) with typed statuses`, async () => {
    const seed = seedFromEnv();
    console.log(`fuzz-grpc (network): seed ${seed} (replay with JARVIS_SEED=${seed})`);
    const random = seededRandom(seed);
    const transport = createIpcTransport({ kind: "unix", path: socketPath });
    const pools: FieldPools = { strings: [], addresses: ADDRESSES };
    const started = performance.now();
    const run = await fuzzService(NetworkService, NetworkService.methods, transport, socketPath, pools, random, CALLS_PER_METHOD, RAW_PER_METHOD);
    const seconds = (performance.now() - started) / 1000;
    const pid = child?.pid as number;
    const memory = memoryOf(pid);
    console.log(`fuzz-grpc (network): ${summary(run)}; ${seconds.toFixed(1)} s; network RSS ${memory.rssMiB.toFixed(1)} MiB (peak ${memory.peakMiB.toFixed(1)})`);
    expect(run.problems).toEqual([]);
    expect(child?.exitCode).toBeNull();
    expect(isAlive(pid)).toBe(true);
    await createClient(NetworkService, transport).getStatus({});
  }, scaled(240_000, 0));
});
