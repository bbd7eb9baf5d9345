import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { SessionService, type GetStatusResponse } from "@jarvis/proto/jarvis/session/v1/session_service";
import { NetworkService, type GetStatusResponse as NetworkStatus } from "@jarvis/proto/jarvis/network/v1/network_service";
import { Health, HealthCheckResponse_ServingStatus, type HealthCheckResponse } from "@jarvis/proto/grpc/health/v1/health";
import { TestNode } from "./helpers/cli.js";
import { createGrpcJsClient, unary } from "./helpers/grpcjs.js";

/** A stock gRPC client (grpc-js) against both services of a running node, over Unix sockets. */
describe("grpc-js interop", () => {
  const node = new TestNode("gjs");
  const clients: grpc.Client[] = [];
  const socket = (name: string) => `unix://${join(node.home, "run", name)}`;

  beforeAll(() => node.init());
  afterAll(async () => {
    for (const c of clients) c.close();
    await node.destroy();
  });

  it("calls SessionService.GetStatus on the session socket", async () => {
    const client = createGrpcJsClient(SessionService, socket("session.sock"));
    clients.push(client);
    const status = await unary<GetStatusResponse>(client, "getStatus", {});
    expect(status).toMatchObject({ identityExists: true, locked: false, name: "gjs", networkAvailable: true });
    expect(status.uid).toMatch(/^[0-9a-f]{32}$/);
  });

  it("gets INVALID_ARGUMENT with a useful message for a malformed request", async () => {
    const client = createGrpcJsClient(SessionService, socket("session.sock"));
    clients.push(client);
    const error = await unary(client, "sendMessage", { conversation: "", text: "x" }).catch((e: grpc.ServiceError) => e);
    expect((error as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((error as grpc.ServiceError).details).toBe("conversation is required");
  });

  it("calls NetworkService.GetStatus on the network socket", async () => {
    const client = createGrpcJsClient(NetworkService, socket("network.sock"));
    clients.push(client);
    const status = await unary<NetworkStatus>(client, "getStatus", {});
    expect(status.configured).toBe(true);
    expect(status.listenAddress).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("answers grpc.health.v1 on both sockets", async () => {
    for (const name of ["session.sock", "network.sock"]) {
      const client = createGrpcJsClient(Health, socket(name));
      clients.push(client);
      const health = await unary<HealthCheckResponse>(client, "check", { service: "" });
      expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
  });
});
