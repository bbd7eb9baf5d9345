#!/usr/bin/env node
// Container healthcheck: grpc.health.v1 Check over the node's socket volume.
//   node docker/health.js session   exit 0 when the session is SERVING (unlocked, network reachable)
//   node docker/health.js network   exit 0 when the network service answers SERVING
// Any other answer, or no answer within the deadline, exits 1 with the reason on stderr.
import { resolveHome } from "@jarvis/core";
import { HealthCheckResponse_ServingStatus as Status } from "@jarvis/proto/grpc/health/v1/health";
import { healthClient, networkAddress, sessionAddress } from "./session-client.js";

const role = process.argv[2] ?? "session";
if (role !== "session" && role !== "network") {
  console.error(`usage: health.js session|network (got ${JSON.stringify(role)})`);
  process.exit(2);
}
const home = resolveHome(undefined, process.env);
const address = role === "session" ? sessionAddress(home) : networkAddress(home);
try {
  // "" = the whole server: SERVING only when every service in it is.
  const { status } = await healthClient(address).check({ service: "" }, { timeoutMs: 3_000 });
  if (status !== Status.SERVING) {
    console.error(`${role}: ${Status[status] ?? status}`);
    process.exit(1);
  }
} catch (error) {
  console.error(`${role}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
