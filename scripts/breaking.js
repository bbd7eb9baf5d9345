#!/usr/bin/env node
// `npm run breaking`: buf breaking of the proto in the working tree against the main branch.
// buf's own `.git#branch=main` needs a local branch called main, which a clone of another
// branch (a CI checkout, a fresh clone of a feature branch) does not have: there main exists
// only as origin/main. So the commit is resolved here (main, else origin/main) and given to buf
// as `.git#ref=<commit>`, which works in a clone, a worktree and a shallow checkout alike.
// The commit is where this branch left main (the merge base), so a branch that is merely behind
// main is not blamed for fields main added since; with no shared history (a shallow clone), it
// is main's tip.
// Without a git repository or any main to compare against, it says so and passes: there is
// nothing to be incompatible with. Usage: node scripts/breaking.js [BRANCH] (default main).
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BUF = join(fileURLToPath(new URL("..", import.meta.url)), "node_modules", ".bin", "buf");

function git(args) {
  const result = spawnSync("git", args, { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Where HEAD left `branch` (found locally or as the clone's origin/<branch>), and how. */
export function resolveAgainst(branch) {
  if (git(["rev-parse", "--is-inside-work-tree"]) !== "true") return undefined;
  for (const ref of [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]) {
    const tip = git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    if (!tip) continue;
    const base = git(["merge-base", "HEAD", tip]);
    return base ? { ref: `${ref} (merge base)`, commit: base } : { ref, commit: tip };
  }
  return undefined;
}

function main() {
  const branch = process.argv[2] ?? "main";
  const against = resolveAgainst(branch);
  if (!against) {
    console.log(`buf breaking: skipped — no git branch ${branch} (nor origin/${branch}) here to compare the proto against`);
    return 0;
  }
  const top = git(["rev-parse", "--show-toplevel"]);
  const head = git(["rev-parse", "HEAD"]);
  const note = head === against.commit ? " (HEAD is that commit: only uncommitted proto changes are checked)" : "";
  console.log(`buf breaking: against ${against.ref} ${against.commit.slice(0, 12)}${note}`);
  try {
    // Run from the top level: the `.git` input is relative to it (a file in a worktree, a
    // directory in a clone; buf reads both).
    execFileSync(BUF, ["breaking", "--against", `.git#ref=${against.commit}`], { cwd: top, stdio: "inherit" });
    return 0;
  } catch (error) {
    return typeof error.status === "number" ? error.status : 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
