import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { sleep, systemClock, type Clock } from "@jarvis/core";
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as Status } from "@jarvis/proto/grpc/health/v1/health";

/**
 * Whether a service can do its job right now (e.g. the session is unlocked and reaches the
 * network service). Asked on every Check, so a probe never sees a stale answer.
 */
export type Readiness = (service: string) => boolean;

export interface HealthOptions {
  /** Omitted: every known service is SERVING while the process runs. */
  readiness?: Readiness;
  /** How often Watch re-asks readiness; it sends only changes. */
  watchIntervalMs?: number;
  clock?: Clock;
}

/**
 * grpc.health.v1 per service name: SERVICE_UNKNOWN for names we do not serve, otherwise
 * SERVING or NOT_SERVING from the readiness signal. "" is the whole server: SERVING only when
 * every service is. Watch streams the current status and then each change, until shutdown.
 */
export function registerHealth(router: ConnectRouter, serviceNames: readonly string[], options: HealthOptions = {}): void {
  const ready = options.readiness ?? (() => true);
  const clock = options.clock ?? systemClock;
  const interval = options.watchIntervalMs ?? 500;
  const statusOf = (service: string): Status => {
    if (service === "") return serviceNames.every(ready) ? Status.SERVING : Status.NOT_SERVING;
    if (!serviceNames.includes(service)) return Status.SERVICE_UNKNOWN;
    return ready(service) ? Status.SERVING : Status.NOT_SERVING;
  };
  router.service(Health, {
    check: (req) => create(HealthCheckResponseSchema, { status: statusOf(req.service) }),
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const now = statusOf(req.service);
        if (now !== last) yield create(HealthCheckResponseSchema, { status: now });
        last = now;
        try {
          await sleep(clock, interval, ctx.signal);
        } catch {
          return; // the call or the server ended
        }
      }
    },
  });
}
