#!/usr/bin/env node
// The same trivial unary method (SessionService.GetStatus, a fixed empty answer) served by one
// server stack, in its own process so its CPU time is its own:
//   node unary-server.js ours|ours-token|grpc <unix-socket-path>
// ours: the project's own startServer (@jarvis/rpc, with our interceptors,
// health and reflection, as the services run it). ours-token: the same with a bearer token, so
// every call passes the admission interceptor as in TCP mode (on the same Unix socket, so the
// interceptor is the only difference). grpc: a bare @grpc/grpc-js server with the
// protobuf-es types. Prints one "ready" JSON line; answers each stdin line "cpu" with one JSON
// line { cpuMicros } (user + system since start).
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { silentLogger } from "@jarvis/core";
import { GetStatusRequestSchema, GetStatusResponseSchema, SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { startServer } from "@jarvis/rpc";

const [kind, path] = process.argv.slice(2);
/** The token "ours-token" requires; server-stacks.js sends it. */
const BENCH_TOKEN = "bench-token";
const answer = create(GetStatusResponseSchema, {});

if (kind === "ours" || kind === "ours-token") {
  await startServer({
    token: kind === "ours-token" ? BENCH_TOKEN : undefined,
    listen: { kind: "unix", path },
    routes: (router) => router.service(SessionService, { getStatus: () => answer }),
    serviceNames: [SessionService.typeName],
    logger: silentLogger,
  });
} else {
  const server = new grpc.Server();
  server.addService(
    {
      getStatus: {
        path: `/${SessionService.typeName}/GetStatus`,
        requestStream: false,
        responseStream: false,
        requestDeserialize: (bytes) => fromBinary(GetStatusRequestSchema, bytes),
        responseSerialize: (message) => Buffer.from(toBinary(GetStatusResponseSchema, message)),
      },
    },
    { getStatus: (_call, callback) => callback(null, answer) },
  );
  await new Promise((resolve, reject) => server.bindAsync(`unix:${path}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
}
process.stdout.write(JSON.stringify({ ready: true }) + "\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== "cpu") continue;
  const { user, system } = process.cpuUsage();
  process.stdout.write(JSON.stringify({ cpuMicros: user + system }) + "\n");
}
