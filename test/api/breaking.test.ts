import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Issue 19, CI: `npm run breaking` (scripts/breaking.js, part of `npm run lint`) runs buf
 * breaking against main. On a temporary copy of proto/ and the buf config made into a git
 * repository, a deliberately breaking change on a branch fails it, naming the change, and a
 * compatible one passes — also in a clone that has main only as origin/main, as a CI checkout
 * of a branch does.
 */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = join(ROOT, "scripts", "breaking.js");
const SERVICE = "proto/jarvis/session/v1/session_service.proto";
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid" };

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

function breaking(cwd: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [SCRIPT], { cwd, encoding: "utf8" });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("npm run breaking (buf breaking against main)", () => {
  const dir = mkdtempSync(join(tmpdir(), "jv-brk-"));
  const repo = join(dir, "repo");
  const file = join(repo, SERVICE);
  let original = "";

  /** Edits the service proto on the feature branch, starting from main's version each time. */
  const edit = (from: string, to: string) => {
    expect(original).toContain(from);
    writeFileSync(file, original.replace(from, to));
  };

  beforeAll(() => {
    cpSync(join(ROOT, "proto"), join(repo, "proto"), { recursive: true });
    cpSync(join(ROOT, "buf.yaml"), join(repo, "buf.yaml"));
    git(repo, "init", "-q", "-b", "main");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "the API as on main");
    git(repo, "checkout", "-q", "-b", "feature");
    original = readFileSync(file, "utf8");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes the unchanged API, saying what it compared against", () => {
    const result = breaking(repo);
    expect(result.output).toContain("buf breaking: against refs/heads/main (merge base)");
    expect(result.status).toBe(0);
  });

  it("fails a removed field, naming it", () => {
    edit("  bool weak_kdf = 8;\n", "");
    const result = breaking(repo);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`${SERVICE}:`);
    expect(result.output).toMatch(/Previously present field "8" with name "weak_kdf" on message "GetStatusResponse" was deleted/);
  });

  it("fails a changed field type, naming it", () => {
    edit("  string listen_address = 6;", "  int64 listen_address = 6;");
    const result = breaking(repo);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Field "6" with name "listen_address" on message "GetStatusResponse" changed type from "string" to "int64"/);
  });

  it("fails a renamed RPC, naming the one that is gone", () => {
    edit("  rpc GetStatus(GetStatusRequest)", "  rpc FetchStatus(GetStatusRequest)");
    const result = breaking(repo);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/Previously present RPC "GetStatus" on service "SessionService" was deleted/);
  });

  it("passes an added field", () => {
    edit("  bool weak_kdf = 8;\n", "  bool weak_kdf = 8;\n  // A field added compatibly.\n  bool added_later = 999;\n");
    const result = breaking(repo);
    expect(result.output).not.toContain("Previously present");
    expect(result.status).toBe(0);
  });

  it("in a clone of the branch (main only as origin/main), fails a committed breaking change", () => {
    edit("  bool weak_kdf = 8;\n", "");
    git(repo, "commit", "-q", "-am", "drop weak_kdf");
    const clone = join(dir, "clone");
    git(dir, "clone", "-q", "--branch", "feature", repo, clone);
    expect(git(clone, "branch", "--list", "main").trim()).toBe("");
    const result = breaking(clone);
    expect(result.output).toContain("against refs/remotes/origin/main (merge base)");
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/with name "weak_kdf" on message "GetStatusResponse" was deleted/);
  });

  it("without git history to compare with, says it skipped and passes", () => {
    const bare = join(dir, "no-git");
    cpSync(join(repo, "proto"), join(bare, "proto"), { recursive: true });
    cpSync(join(repo, "buf.yaml"), join(bare, "buf.yaml"));
    // Not inside any repository: /tmp is not one (a parent .git would be found otherwise).
    expect(spawnSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: bare }).status).not.toBe(0);
    const result = breaking(bare);
    expect(result.status).toBe(0);
    expect(result.output).toContain("buf breaking: skipped — no git branch main (nor origin/main) here");
  });
});
