import { createClient } from "@connectrpc/connect";
import type { ProfilePaths } from "@jarvis/core";
import { createIpcTransport } from "@jarvis/rpc";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@jarvis/proto/grpc/health/v1/health";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { readIpcInfo, readToken } from "./daemon-files.js";

/** What `jarvis status` reports as `health`: the session service's grpc.health.v1 answer. */
export type HealthWord = "serving" | "not_serving" | "unknown";

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Asks grpc.health.v1 Check for the session service, as a supervisor or a Docker healthcheck
 * would: NOT_SERVING while locked or without the network service. A call that fails, or any
 * other answer, is "unknown" — status reports what it saw, it does not fail on it.
 */
export async function sessionHealth(paths: ProfilePaths): Promise<HealthWord> {
  try {
    const ipc = readIpcInfo(paths);
    const health = createClient(Health, createIpcTransport(ipc.session, { token: readToken(paths, ipc.session) }));
    const { status } = await health.check({ service: SessionService.typeName }, { timeoutMs: CHECK_TIMEOUT_MS });
    if (status === Status.SERVING) return "serving";
    if (status === Status.NOT_SERVING) return "not_serving";
    return "unknown";
  } catch {
    return "unknown";
  }
}
