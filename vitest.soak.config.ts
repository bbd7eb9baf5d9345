import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

// `npm run soak`: only the reliability suite, with the long variants (JARVIS_SOAK=1, read by
// test/reliability/scale.ts) and no per-test time limit, because a soak runs for as long as its
// counts take.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ["test/reliability/**/*.test.ts"],
      testTimeout: 0,
      hookTimeout: 600_000,
      maxWorkers: 1,
      env: { JARVIS_SOAK: "1" },
    },
  }),
);
