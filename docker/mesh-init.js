#!/usr/bin/env node
// One-shot mesh setup for docker-compose (and its process twin in test/compose/): for every node
// named in $JARVIS_MESH_NODES ("alice=/nodes/alice,bob=/nodes/bob"), create the identity (or
// unlock it after a restart) with $JARVIS_PASSWORD, wait until it listens for peers, write its
// link code to $JARVIS_MESH_CODES/<name>.link when set, then add every other node as a contact.
// Idempotent: running it again only unlocks and adds what is missing.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sessionClient, untilAnswered } from "./session-client.js";

const nodes = parseNodes(process.env.JARVIS_MESH_NODES ?? "");
const password = process.env.JARVIS_PASSWORD ?? "";
if (password.length < 8) fail("JARVIS_PASSWORD must be set (at least 8 characters)");
const codesDir = process.env.JARVIS_MESH_CODES;

const ready = [];
for (const node of nodes) ready.push(await prepare(node));
for (const node of ready) await linkWithOthers(node, ready);
console.log(`mesh ready: ${ready.map((n) => `${n.name} (${n.uid.slice(0, 12)})`).join(", ")}`);
const first = ready[0].name;
console.log(`attach a TUI:   docker compose exec ${first}-session node docker/attach-tui.js`);
console.log(`health:         docker compose exec ${first}-session node docker/health.js session`);

function parseNodes(spec) {
  const parsed = spec.split(",").filter(Boolean).map((entry) => {
    const [name, home] = entry.split("=");
    if (!name || !home) fail(`bad JARVIS_MESH_NODES entry ${JSON.stringify(entry)}: expected name=/profile/dir`);
    return { name, home };
  });
  if (parsed.length < 2) fail("JARVIS_MESH_NODES must name at least two nodes (name=/profile/dir,…)");
  return parsed;
}

async function prepare({ name, home }) {
  // The socket addresses come from each profile's run/ directory, not this process's env.
  const client = sessionClient(home, {});
  const status = await untilAnswered(() => client.getStatus({}, { timeoutMs: 2_000 }), {
    onRetry: (_error, attempt) => attempt % 10 === 0 && console.log(`${name}: waiting for the session socket…`),
  });
  if (!status.identityExists) {
    await client.createIdentity({ name, password });
    console.log(`${name}: identity created`);
  } else if (status.locked) {
    await client.unlock({ password });
    console.log(`${name}: unlocked`);
  }
  // A link code carries the listen/advertised address, so wait until the network listens.
  await untilAnswered(async () => {
    const now = await client.getStatus({}, { timeoutMs: 2_000 });
    if (!now.networkAvailable || !now.listenAddress) throw new Error(`${name}: not listening for peers yet`);
  });
  const { identity } = await client.getIdentity({});
  if (!identity) fail(`${name}: no identity after unlock`);
  if (codesDir) {
    mkdirSync(codesDir, { recursive: true });
    writeFileSync(join(codesDir, `${name}.link`), `${identity.linkCode}\n`);
  }
  return { name, client, uid: identity.uid, linkCode: identity.linkCode };
}

async function linkWithOthers(node, all) {
  const { contacts } = await node.client.listContacts({});
  const known = new Set(contacts.map((c) => c.uid));
  for (const other of all) {
    if (other === node || known.has(other.uid)) continue;
    await node.client.addContact({ source: { case: "linkCode", value: other.linkCode } });
    console.log(`${node.name}: added ${other.name}`);
  }
}

function fail(message) {
  console.error(`mesh-init: ${message}`);
  process.exit(1);
}
