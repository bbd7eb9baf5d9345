import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KEEP, rotateLogs } from "./log-rotation.js";

describe("rotateLogs", () => {
  const dir = mkdtempSync(join(tmpdir(), "jv-rot-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps each log under the size with at most KEEP older copies, while a writer keeps its descriptor", () => {
    const file = join(dir, "session.log");
    // Like pino's destination: opened once for appending, never reopened.
    const fd = openSync(file, "a");
    try {
      for (let round = 1; round <= KEEP + 2; round++) {
        writeSync(fd, `round ${round} `.padEnd(2_000, "x") + "\n");
        expect(rotateLogs(dir, 1_000)).toEqual(["session.log"]);
        expect(statSync(file).size).toBe(0);
        expect(readFileSync(`${file}.1`, "utf8")).toMatch(new RegExp(`^round ${round} `));
      }
      // The writer's next line lands at the start of the truncated file, not after a hole.
      writeSync(fd, "after\n");
      expect(readFileSync(file, "utf8")).toBe("after\n");
      expect(existsSync(`${file}.${KEEP}`)).toBe(true);
      expect(existsSync(`${file}.${KEEP + 1}`)).toBe(false);
      expect(readFileSync(`${file}.${KEEP}`, "utf8")).toMatch(/^round 3 /);
    } finally {
      closeSync(fd);
    }
  });

  it("leaves small logs and other files alone", () => {
    const small = join(dir, "network.log");
    const fd = openSync(small, "a");
    writeSync(fd, "short\n");
    closeSync(fd);
    expect(rotateLogs(dir, 1_000)).toEqual([]);
    expect(readFileSync(small, "utf8")).toBe("short\n");
  });
});
