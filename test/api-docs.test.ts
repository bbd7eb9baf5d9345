import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain-JS script without type declarations
import { loadFiles, render, undocumented, withGenerated } from "../scripts/api-docs.js";

/**
 * Issue 19: every service, RPC, message, field and enum value in proto/jarvis has a comment, and
 * docs/api.md's reference is what scripts/api-docs.js generates from those comments.
 */
describe("API documentation", () => {
  const files = loadFiles();

  it("covers every element of proto/jarvis with a comment", () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
    expect(undocumented(files)).toEqual([]);
  });

  it("docs/api.md is up to date with the proto comments (run node scripts/api-docs.js)", () => {
    const doc = readFileSync(fileURLToPath(new URL("../docs/api.md", import.meta.url)), "utf8");
    expect(withGenerated(doc, render(files))).toBe(doc);
    // The hand-written part explains the event model.
    expect(doc).toMatch(/## Events: `Subscribe`/);
    expect(doc).toContain("after a reconnect".replace(/^a/, "A"));
  });

  it("notices a missing comment", () => {
    const file = structuredClone(files.find((f: { name: string }) => f.name === "jarvis/session/v1/events.proto"));
    file.sourceCodeInfo.location = [];
    expect(undocumented([file]).length).toBeGreaterThan(10);
  });
});
