import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { DEFAULT_HEALTH_POLICY, HealthWatch, type HealthProbe } from "./health-watch.js";

type Mode = "answer" | "refuse" | "silent";

/** A service whose health answers, refuses the connection, or hangs (until the check gives up). */
function fakeService() {
  const state = { mode: "refuse" as Mode, calls: 0, aborted: 0 };
  const probe: HealthProbe = (signal) => {
    state.calls += 1;
    if (state.mode === "answer") return Promise.resolve();
    if (state.mode === "refuse") return Promise.reject(new Error("ECONNREFUSED"));
    return new Promise<void>((_resolve, reject) =>
      signal.addEventListener("abort", () => {
        state.aborted += 1;
        reject(new Error("aborted"));
      }),
    );
  };
  return { state, probe };
}

function recorder() {
  const seen: string[] = [];
  return { seen, events: { onStarted: () => seen.push("started"), onAnswering: (a: boolean) => seen.push(a ? "answering" : "silent"), onHung: (reason: string) => seen.push(`hung: ${reason}`) } };
}

/** Lets the probe's promise and the watch's follow-up run (they are microtasks, not timers). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

const { intervalMs, timeoutMs, maxFailures, startTimeoutMs } = DEFAULT_HEALTH_POLICY;

describe("HealthWatch", () => {
  it("reports started on the first answer, asking every 100 ms until then", async () => {
    const clock = new FakeClock();
    const service = fakeService();
    const { seen, events } = recorder();
    const watch = new HealthWatch(service.probe, clock, DEFAULT_HEALTH_POLICY, events);
    await settle();
    await advance(clock, 1_000);
    expect(service.state.calls).toBe(11); // at 0, 100, …, 1000 ms
    expect(seen).toEqual([]);
    service.state.mode = "answer";
    await advance(clock, 100);
    expect(seen).toEqual(["started"]);
    // Once started, it asks at the steady interval.
    const before = service.state.calls;
    await advance(clock, intervalMs * 3);
    expect(service.state.calls - before).toBe(3);
    expect(seen).toEqual(["started"]);
    watch.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it("calls a service hung after maxFailures silent checks in a row, and stops checking", async () => {
    const clock = new FakeClock();
    const service = fakeService();
    service.state.mode = "answer";
    const { seen, events } = recorder();
    new HealthWatch(service.probe, clock, DEFAULT_HEALTH_POLICY, events);
    await settle();
    expect(seen).toEqual(["started"]);
    service.state.mode = "silent";
    // Each silent check lasts timeoutMs, then the pause: hung at the maxFailures-th timeout.
    const hungAt = maxFailures * timeoutMs + (maxFailures - 1) * intervalMs + intervalMs;
    await advance(clock, hungAt - 100);
    expect(seen).toEqual(["started", "silent"]);
    await advance(clock, 100);
    expect(seen).toEqual(["started", "silent", `hung: stopped answering its health check (${maxFailures} checks in a row, ${timeoutMs / 1000} s each)`]);
    expect(service.state.aborted).toBe(maxFailures);
    expect(clock.pendingTimers).toBe(0);
  });

  it("forgives failed checks that are not in a row", async () => {
    const clock = new FakeClock();
    const service = fakeService();
    service.state.mode = "answer";
    const { seen, events } = recorder();
    const watch = new HealthWatch(service.probe, clock, DEFAULT_HEALTH_POLICY, events);
    await settle();
    for (let round = 0; round < 3; round++) {
      service.state.mode = "refuse";
      await advance(clock, (maxFailures - 1) * intervalMs);
      service.state.mode = "answer";
      await advance(clock, intervalMs);
    }
    expect(seen).toEqual(["started", "silent", "answering", "silent", "answering", "silent", "answering"]);
    watch.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it("calls a service that never answers hung after startTimeoutMs", async () => {
    const clock = new FakeClock();
    const service = fakeService();
    service.state.mode = "silent";
    const { seen, events } = recorder();
    new HealthWatch(service.probe, clock, DEFAULT_HEALTH_POLICY, events);
    await advance(clock, startTimeoutMs);
    expect(seen).toEqual([]);
    await advance(clock, timeoutMs + 200);
    expect(seen).toEqual([`hung: did not answer its health check within ${startTimeoutMs / 1000} s of starting`]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("stop() ends a check in flight and schedules nothing more", async () => {
    const clock = new FakeClock();
    const service = fakeService();
    service.state.mode = "silent";
    const { seen, events } = recorder();
    const watch = new HealthWatch(service.probe, clock, DEFAULT_HEALTH_POLICY, events);
    await settle();
    watch.stop();
    await settle();
    expect(service.state.aborted).toBe(1);
    await advance(clock, startTimeoutMs * 2, 1_000);
    expect(seen).toEqual([]);
    expect(service.state.calls).toBe(1);
  });
});
