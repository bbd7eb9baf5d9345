import { afterEach, describe, expect, it } from "vitest";
import { createClient, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { FakeClock, silentLogger } from "@jarvis/core";
import { Health, HealthCheckResponse_ServingStatus as Status } from "@jarvis/proto/grpc/health/v1/health";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { errorMappingInterceptor, registerHealth } from "@jarvis/rpc";
import { createSessionRoutes, sessionReadiness } from "./routes.js";
import { TestNodes, TEST_PASSWORD } from "./src/testing/test-nodes.js";
import { createTestProfile } from "./src/testing/test-profile.js";
import type { SessionApp } from "./src/app/session-app.js";

// grpc.health.v1 as the supervisor, a Docker healthcheck or `jarvis status` sees it: wired as
// main.ts wires it (registerHealth + sessionReadiness), over connect's in-memory transport.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

function clientsFor(app: SessionApp, clock: FakeClock) {
  const routes = (router: ConnectRouter) => {
    registerHealth(router, [SessionService.typeName], { readiness: sessionReadiness(app), clock, watchIntervalMs: 100 });
    createSessionRoutes(app, silentLogger, () => {})(router);
  };
  const transport = createRouterTransport(routes, { router: { interceptors: [errorMappingInterceptor()] } });
  return { health: createClient(Health, transport), session: createClient(SessionService, transport) };
}

describe("session health reflects readiness", () => {
  it("is NOT_SERVING while locked or without the network service, SERVING when unlocked, per service name", async () => {
    const { app, home, network } = nodes.node();
    const { health, session } = clientsFor(app, new FakeClock());
    const check = async (service: string) => (await health.check({ service })).status;

    expect(await check(SessionService.typeName)).toBe(Status.NOT_SERVING); // no identity yet
    await createTestProfile(home, { name: "alice", password: TEST_PASSWORD });
    expect(await check(SessionService.typeName)).toBe(Status.NOT_SERVING); // locked
    expect(await check("")).toBe(Status.NOT_SERVING);

    await session.unlock({ password: TEST_PASSWORD });
    expect(await check(SessionService.typeName)).toBe(Status.SERVING);
    expect(await check("")).toBe(Status.SERVING);
    expect(await check("jarvis.nope.v1.Nothing")).toBe(Status.SERVICE_UNKNOWN);

    network.available = false; // the network service went away
    expect(await check(SessionService.typeName)).toBe(Status.NOT_SERVING);
    network.available = true;
    expect(await check(SessionService.typeName)).toBe(Status.SERVING);

    await session.lock({});
    expect(await check(SessionService.typeName)).toBe(Status.NOT_SERVING);
    await session.unlock({ password: TEST_PASSWORD });
    expect(await check(SessionService.typeName)).toBe(Status.SERVING);
  });

  it("Watch sends the current status, then each change (and only changes) as the clock ticks", async () => {
    const clock = new FakeClock();
    const { app, home } = nodes.node();
    await createTestProfile(home, { name: "alice", password: TEST_PASSWORD });
    const { health, session } = clientsFor(app, clock);
    const abort = new AbortController();
    const stream = health.watch({ service: SessionService.typeName }, { signal: abort.signal })[Symbol.asyncIterator]();
    const next = async () => ((await stream.next()).value as { status: Status }).status;

    expect(await next()).toBe(Status.NOT_SERVING);
    await session.unlock({ password: TEST_PASSWORD });
    const serving = next();
    // Ticks with no change send nothing; the first tick after the unlock sends SERVING.
    await waitForTimer(clock);
    clock.advance(100);
    expect(await serving).toBe(Status.SERVING);

    const notServing = next();
    await waitForTimer(clock);
    clock.advance(100); // still unlocked: nothing to send
    await waitForTimer(clock);
    await session.lock({});
    clock.advance(100);
    expect(await notServing).toBe(Status.NOT_SERVING);
    abort.abort();
  });
});

/** Lets the Watch handler reach its next sleep (it runs on the event loop, not on the fake clock). */
async function waitForTimer(clock: FakeClock): Promise<void> {
  for (let i = 0; i < 1000 && clock.pendingTimers === 0; i++) await new Promise((resolve) => setImmediate(resolve));
  if (clock.pendingTimers === 0) throw new Error("the Watch handler never waited on the clock");
}
