import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus } from "@jarvis/proto/grpc/health/v1/health";

/** grpc.health.v1: SERVING while the process runs; Watch ends when the server shuts down. */
export function registerHealth(router: ConnectRouter, serviceNames: string[]): void {
  const known = new Set(["", ...serviceNames]);
  const statusOf = (service: string) =>
    create(HealthCheckResponseSchema, {
      status: known.has(service) ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN,
    });
  router.service(Health, {
    check: (req) => statusOf(req.service),
    async *watch(req, ctx) {
      yield statusOf(req.service);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  });
}
