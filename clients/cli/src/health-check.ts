import { createClient, type Client } from "@connectrpc/connect";
import type { ProfilePaths } from "@jarvis/core";
import { createIpcTransport, formatIpcAddress, type IpcAddress } from "@jarvis/rpc";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@jarvis/proto/grpc/health/v1/health";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { readIpcInfo, readToken } from "./daemon-files.js";
import type { HealthProbe } from "./health-watch.js";

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

/** Where a supervised service listens and the token it wants (TCP), once it has said so. */
export type HealthTarget = () => { address: IpcAddress; token: string | undefined } | undefined;

/**
 * The supervisor's probe of one service: grpc.health.v1 Check for `service`. Any status is an
 * answer (a locked session is NOT_SERVING, and alive). One client per address, reused across
 * checks: a check is one request on an open connection, not a new connection every time.
 */
export function healthProbe(target: HealthTarget, service: string): HealthProbe {
  let cached: { key: string; client: Client<typeof Health> } | undefined;
  return async (signal) => {
    const current = target();
    if (!current) throw new Error("the service has not reported its address yet");
    const key = `${formatIpcAddress(current.address)} ${current.token ?? ""}`;
    if (cached?.key !== key) cached = { key, client: createClient(Health, createIpcTransport(current.address, { token: current.token })) };
    await cached.client.check({ service }, { signal });
  };
}
