import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** packages/proto is committed; it must be exactly what `npm run generate` makes from proto/. */
describe("generated code", () => {
  const out = mkdtempSync(join(tmpdir(), "jv-gen-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("matches a fresh generation from proto/", () => {
    const template = JSON.stringify({
      version: "v2",
      clean: true,
      inputs: [{ directory: "proto" }],
      plugins: [{ local: join(root, "node_modules/.bin/protoc-gen-es"), out: join(out, "gen"), opt: ["target=js+dts", "import_extension=js"] }],
    });
    execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--template", template], { cwd: root, stdio: "pipe" });
    const committedDir = join(root, "packages/proto/gen");
    const fresh = listFiles(join(out, "gen")).map((f) => relative(join(out, "gen"), f)).sort();
    const committed = listFiles(committedDir).map((f) => relative(committedDir, f)).sort();
    expect(committed).toEqual(fresh);
    for (const file of fresh) {
      expect(readFileSync(join(committedDir, file), "utf8"), `${file} differs: run npm run generate`).toBe(readFileSync(join(out, "gen", file), "utf8"));
    }
  });

  it("passes buf lint and buf format", () => {
    execFileSync(join(root, "node_modules/.bin/buf"), ["lint"], { cwd: root, stdio: "pipe" });
    execFileSync(join(root, "node_modules/.bin/buf"), ["format", "--diff", "--exit-code"], { cwd: root, stdio: "pipe" });
  });
});
