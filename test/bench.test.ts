import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const BENCH = fileURLToPath(new URL("../bench/run.js", import.meta.url));

interface Scenario {
  figure: number;
  ceiling: number;
  ratio: number;
  target: unknown;
}

function expectScenario(scenario: Scenario): void {
  expect(Number.isFinite(scenario.figure) && scenario.figure > 0).toBe(true);
  expect(Number.isFinite(scenario.ceiling) && scenario.ceiling > 0).toBe(true);
  expect(typeof scenario.ratio).toBe("number");
  expect(scenario.target).toBeDefined();
}

// Checks that the bench runs and prints one well-formed JSON document; asserts no timings.
describe("npm run bench -- --quick", () => {
  it("prints one JSON document with a figure, same-run ceiling, ratio and target per scenario", async () => {
    const { stdout } = await run(process.execPath, [BENCH, "--quick"], { env: { ...process.env, BENCH_E2E_N: "10" }, maxBuffer: 1 << 20 });
    const doc = JSON.parse(stdout) as { mode: string; scenarios: Record<string, Scenario & Record<string, Scenario>> };
    expect(doc.mode).toBe("quick");
    const { endToEnd, ...crypto } = doc.scenarios;
    expect(Object.keys(crypto).sort()).toEqual(["handshakes", "noiseTransport16KiB", "noiseTransport64KiB"]);
    for (const scenario of Object.values(crypto)) expectScenario(scenario);
    expect(Object.keys(endToEnd ?? {}).sort()).toEqual(["streaming", "unaryConcurrency1", "unaryConcurrency16", "unaryConcurrency64"]);
    for (const scenario of Object.values(endToEnd ?? {})) expectScenario(scenario);
  }, 180_000);
});
