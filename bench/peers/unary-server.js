#!/usr/bin/env node
// The same trivial unary method (SessionService.GetStatus, a fixed empty answer) served by one
// server stack, in its own process so its CPU time is its own:
//   node unary-server.js ours|grpc <unix-socket-path>
// ours: the project's own startServer (@jarvis/rpc, with our interceptors,
// health and reflection, as the services run it). grpc: a bare @grpc/grpc-js server with the
// protobuf-es types. Prints one "ready" JSON line; answers each stdin line "cpu" with one JSON
// line { cpuMicros } (user + system since start).
import { createInterface } from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { silentLogger } from "@jarvis/core";
import { GetStatusRequestSchema, GetStatusResponseSchema, SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { startServer } from "@jarvis/rpc";

const [kind, path] = process.argv.slice(2);
const answer = create(GetStatusResponseSchema, {});

if (kind === "ours") {
  await startServer({
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
