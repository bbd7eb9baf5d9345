import { defineConfig } from "vitest/config";

// One vitest run covers unit tests next to the code and the cross-process tests in test/.
// In CI a JSON report is written too, from which .ci/run prints "N passed, N failed".
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "services/*/*.test.ts", "clients/*/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: process.env.JARVIS_TEST_REPORT ? ["default", ["json", { outputFile: process.env.JARVIS_TEST_REPORT }]] : ["default"],
  },
});
