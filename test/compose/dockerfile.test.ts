import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain JS module (scripts/ is not part of the TypeScript build)
import { lintDockerfile, parseDockerfile } from "../../scripts/compose-dockerfile-lint.js";

// hadolint has no offline install here (no Debian or npm package), so this structural check
// stands in for it: see scripts/compose-dockerfile-lint.js.
const root = fileURLToPath(new URL("../..", import.meta.url));
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const lint = (text: string): string[] => lintDockerfile(text) as string[];
const stages = (text: string) => (parseDockerfile(text) as Array<{ keyword: string; args: string }>).filter((i) => i.keyword === "FROM");

describe("Dockerfile", () => {
  it("is clean: pinned node 20 slim bases, multi-stage, non-root, healthcheck", () => {
    expect(lint(dockerfile)).toEqual([]);
    const froms = stages(dockerfile).map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^node:20\.\d+\.\d+-bookworm-slim /);
  });

  const rejections: Array<[string, (text: string) => string, RegExp]> = [
    ["an unpinned base", (t) => t.replace(/node:20\.20\.2-bookworm-slim AS runtime/, "node AS runtime"), /FROM node must pin/],
    ["a latest tag", (t) => t.replace(/node:20\.20\.2-bookworm-slim AS build/, "node:latest AS build"), /FROM node:latest must pin/],
    ["no USER in the final stage", (t) => t.replace(/^USER node$/m, ""), /sets no USER/],
    ["USER root in the final stage", (t) => t.replace(/^USER node$/m, "USER root"), /runs as root/],
    ["no HEALTHCHECK", (t) => t.replace(/^HEALTHCHECK[\s\S]*?health\.js", "session"\]$/m, ""), /no HEALTHCHECK/],
    ["ADD from a URL", (t) => t.replace(/^WORKDIR \/app$/m, "WORKDIR /app\nADD https://example.com/x.tgz /x.tgz"), /ADD from a URL/],
    ["apt-get install with recommends", (t) => t.replace("--no-install-recommends ", ""), /without --no-install-recommends/],
    ["COPY --from an unknown stage", (t) => t.replace("COPY --from=build", "COPY --from=builder"), /--from=builder names no earlier stage/],
  ];
  it.each(rejections)("rejects %s", (_label, mutate, expected) => {
    const mutated = mutate(dockerfile);
    expect(mutated).not.toBe(dockerfile);
    const errors = lint(mutated);
    expect(errors.some((e) => expected.test(e)), errors.join("\n")).toBe(true);
  });
});
