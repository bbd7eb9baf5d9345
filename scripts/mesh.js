#!/usr/bin/env node
// npm run mesh [-- down]: three local nodes (alice, bob, carol) on loopback, each with its own
// profile under .jarvis-dev/ (or $JARVIS_MESH_DIR), linked to each other and ready to chat.
// Development only: the password is $JARVIS_PASSWORD or a fixed dev password.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "clients/cli/bin/jarvis.js");
const base = resolve(process.env.JARVIS_MESH_DIR ?? join(root, ".jarvis-dev"));
const names = (process.env.JARVIS_MESH_NODES ?? "alice,bob,carol").split(",").filter(Boolean);
const env = { ...process.env, JARVIS_PASSWORD: process.env.JARVIS_PASSWORD || "jarvis-dev-password" };

const jarvis = (name, ...args) =>
  execFileSync(process.execPath, [bin, "--home", join(base, name), ...args], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();

if (process.argv[2] === "down") {
  for (const name of names) console.log(`${name}: ${jarvis(name, "down")}`);
  process.exit(0);
}

for (const name of names) {
  const fresh = !existsSync(join(base, name, "keyfile"));
  console.log(fresh ? jarvis(name, "init", "--name", name, "--listen", "127.0.0.1:0") : jarvis(name, "up"));
}
const codes = Object.fromEntries(names.map((name) => [name, jarvis(name, "link")]));
const uids = Object.fromEntries(names.map((name) => [name, JSON.parse(jarvis(name, "status", "--json")).uid]));
for (const name of names) {
  const known = new Set(JSON.parse(jarvis(name, "contacts", "--json")).map((c) => c.uid));
  for (const other of names) {
    if (other !== name && !known.has(uids[other])) jarvis(name, "contact", "add", codes[other]);
  }
}
console.log(`
mesh ready: ${names.join(", ")} (profiles in ${base})
  node clients/cli/bin/jarvis.js --home ${join(base, names[0])}                       the TUI as ${names[0]}
  node clients/cli/bin/jarvis.js --home ${join(base, names[1] ?? names[0])} send ${names[0]} hello   a message
  npm run mesh -- down                                                          stop them`);
