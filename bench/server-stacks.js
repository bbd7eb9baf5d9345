// Our startServer (@jarvis/rpc; grpc-js since the server-stack decision, connect-node before)
// against a bare grpc-js server as the server stack: the same
// trivial unary method (GetStatus) with the same protobuf-es types, each server in its own
// process on a Unix socket, called by the same kind of grpc-js client with the same
// concurrency, in alternating slices. The figure is the server's CPU time per call
// (process.cpuUsage in the server), the thing issue 18 says differs about 6×.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetStatusRequestSchema, GetStatusResponseSchema, SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { round0, round2 } from "./measure.js";

const SERVER = fileURLToPath(new URL("./peers/unary-server.js", import.meta.url));
const PATH = `/${SessionService.typeName}/GetStatus`;
const CONCURRENCY = 16;
const request = Buffer.from(toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, {})));

/** Metadata for a call: the bearer token for the "ours-token" server, nothing for the others. */
function metadataFor(kind) {
  const metadata = new grpc.Metadata();
  if (kind === "ours-token") metadata.set("authorization", "Bearer bench-token");
  return metadata;
}

async function startStack(kind, dir) {
  const socket = join(dir, `${kind}.sock`);
  const child = spawn(process.execPath, [SERVER, kind, socket], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  await lines.next();
  const client = new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure());
  const call = () =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(PATH, (x) => x, (bytes) => fromBinary(GetStatusResponseSchema, bytes), request, metadataFor(kind), (e) => (e ? reject(e) : resolve())),
    );
  return {
    async cpuMicros() {
      child.stdin.write("cpu\n");
      return JSON.parse((await lines.next()).value).cpuMicros;
    },
    /** n calls, CONCURRENCY in flight; returns the wall seconds. */
    async calls(n) {
      let next = 0;
      const start = process.hrtime.bigint();
      const worker = async () => {
        while (next < n) {
          next++;
          await call();
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      return Number(process.hrtime.bigint() - start) / 1e9;
    },
    close() {
      client.close();
      child.kill();
    },
  };
}

export async function serverStacks({ n, rounds }) {
  const dir = mkdtempSync(join(tmpdir(), "jv-bench-stack-"));
  const stacks = {};
  try {
    stacks.ourServer = await startStack("ours", dir);
    stacks.grpcJs = await startStack("grpc", dir);
    stacks.ourServerWithToken = await startStack("ours-token", dir);
    const names = Object.keys(stacks);
    const total = Object.fromEntries(names.map((name) => [name, { seconds: 0, cpuMicros: 0 }]));
    // Warm-up (JIT, the HTTP/2 session) is not counted.
    for (const name of names) await stacks[name].calls(Math.min(n, 200));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + round) % names.length];
        const cpuBefore = await stacks[name].cpuMicros();
        total[name].seconds += await stacks[name].calls(n);
        total[name].cpuMicros += (await stacks[name].cpuMicros()) - cpuBefore;
      }
    }
    const calls = n * rounds;
    const per = (name) => total[name].cpuMicros / calls;
    return {
      figure: round2(per("ourServer")),
      unit: `server CPU µs per unary call (user+system, in the server process), our startServer (@jarvis/rpc: grpc-js since the server-stack decision, connect-node before), grpc-js client, ${CONCURRENCY} in flight`,
      ceiling: round2(per("grpcJs")),
      ceilingName: "server CPU µs per call of a bare grpc-js server, same method, types and client",
      // CPU per call: lower is better, so the ratio is grpc-js CPU over our server's CPU.
      ratio: round2(per("grpcJs") / per("ourServer")),
      callsPerSecond: Object.fromEntries(names.map((name) => [name, round0(calls / total[name].seconds)])),
      // The same server with a bearer token (as in TCP mode): what the admission interceptor,
      // which checks the token before the body is read, costs per call.
      withToken: { cpuMicrosPerCall: round2(per("ourServerWithToken")), ratioToWithoutToken: round2(per("ourServer") / per("ourServerWithToken")) },
      target: "keep the stack the numbers favour (issue 18); record the decision in docs/architecture.md",
      callsPerSlice: n,
    };
  } finally {
    for (const stack of Object.values(stacks)) stack.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
