import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `npm run soak`: only the reliability suite, with the long variants (JARVIS_SOAK=1, read by
// test/reliability/scale.ts) and no per-test time limit, because a soak runs for as long as its
// counts take. Built from the base config's test options rather than merged with them: a merge
// would append this include list to the base one and run every test.
export default defineConfig({
  test: {
    ...base.test,
    include: ["test/reliability/**/*.test.ts"],
    testTimeout: 0,
    hookTimeout: 600_000,
    maxWorkers: 1,
    env: { JARVIS_SOAK: "1" },
  },
});
