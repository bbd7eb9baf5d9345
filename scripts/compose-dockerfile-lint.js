#!/usr/bin/env node
// A small structural Dockerfile check, because hadolint is not installable offline here (no
// Debian package, no npm package; its releases live on GitHub). It covers the rules that matter
// for our image: pinned base tags, a non-root final user, a healthcheck, no remote ADD.
// Usage: node scripts/compose-dockerfile-lint.js [Dockerfile]
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Instructions with backslash continuations joined and comments/blank lines dropped. */
export function parseDockerfile(text) {
  const instructions = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (pending && line.trimStart().startsWith("#")) return; // comments inside a continuation
    if (!pending) startLine = index + 1;
    pending += (pending ? " " : "") + line.replace(/\\$/, "").trim();
    if (line.endsWith("\\")) return;
    const match = /^(\w+)\s*(.*)$/.exec(pending);
    if (match) instructions.push({ keyword: match[1].toUpperCase(), args: match[2], line: startLine });
    pending = "";
  });
  return instructions;
}

/** Every rule the Dockerfile breaks, as readable lines (empty when clean). */
export function lintDockerfile(text) {
  const errors = [];
  const instructions = parseDockerfile(text);
  const stages = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const [image, as, alias] = ins.args.replace(/--platform=\S+\s+/, "").split(/\s+/);
      stages.push({ image, alias: as?.toUpperCase() === "AS" ? alias : undefined, instructions: [] });
      const known = stages.slice(0, -1).some((s) => s.alias === image);
      if (!known && !isPinned(image)) errors.push(`line ${ins.line}: FROM ${image} must pin a version tag or digest (not latest)`);
      continue;
    }
    if (stages.length === 0) {
      if (ins.keyword !== "ARG") errors.push(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      continue;
    }
    stages.at(-1).instructions.push(ins);
    if (ins.keyword === "ADD") {
      if (/(^|\s)(https?|ftp):\/\//i.test(ins.args)) errors.push(`line ${ins.line}: ADD from a URL; download with a checked tool in RUN, or COPY`);
      else if (!/\.(tar|tgz|tar\.\w+)(\s|$)/.test(ins.args)) errors.push(`line ${ins.line}: use COPY instead of ADD for files`);
    }
    if (ins.keyword === "COPY") {
      const from = /--from=(\S+)/.exec(ins.args)?.[1];
      if (from && !/^\d+$/.test(from) && !stages.slice(0, -1).some((s) => s.alias === from) && !from.includes(":")) errors.push(`line ${ins.line}: COPY --from=${from} names no earlier stage`);
    }
    if (ins.keyword === "RUN" && /apt-get install/.test(ins.args)) {
      if (!/--no-install-recommends/.test(ins.args)) errors.push(`line ${ins.line}: apt-get install without --no-install-recommends`);
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(ins.args)) errors.push(`line ${ins.line}: apt lists not removed in the same RUN`);
    }
  }
  if (stages.length === 0) return [...errors, "no FROM instruction"];
  const final = stages.at(-1).instructions;
  const users = final.filter((i) => i.keyword === "USER");
  const lastUser = users.at(-1)?.args.split(":")[0].trim();
  if (lastUser === undefined) errors.push("the final stage sets no USER: it would run as root");
  else if (lastUser === "root" || lastUser === "0") errors.push(`the final stage runs as ${lastUser}`);
  const healthchecks = final.filter((i) => i.keyword === "HEALTHCHECK");
  if (healthchecks.length === 0) errors.push("the final stage has no HEALTHCHECK");
  for (const check of healthchecks) {
    if (!/^(NONE$|(--\S+\s+)*CMD\s+\S)/.test(check.args)) errors.push(`line ${check.line}: HEALTHCHECK must be NONE or [options] CMD <command>`);
  }
  return errors;
}

function isPinned(image) {
  if (image.includes("@sha256:")) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== "latest" && /\d/.test(tag);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = resolve(process.argv[2] ?? join(fileURLToPath(new URL("..", import.meta.url)), "Dockerfile"));
  const errors = lintDockerfile(readFileSync(file, "utf8"));
  if (errors.length) {
    for (const error of errors) console.error(`${file}: ${error}`);
    process.exit(1);
  }
  console.log(`${file}: OK`);
}
