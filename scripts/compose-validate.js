#!/usr/bin/env node
// Validates a compose file without a container engine (none runs on our build machines):
// the compose-spec JSON schema (vendored in docker/schema/) plus the cross-references the
// schema cannot see. Usage: node scripts/compose-validate.js [docker-compose.yml]
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";

const root = fileURLToPath(new URL("..", import.meta.url));
const addFormats = addFormatsModule.default ?? addFormatsModule;

let compiled;
function schemaValidator() {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(join(root, "docker/schema/compose-spec.schema.json"), "utf8"));
  // "https://json-schema.org/draft-07/schema" is not a meta-schema id ajv knows; the schema is draft-07.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  compiled = ajv.compile(schema);
  return compiled;
}

/** Parses compose YAML the way compose does: `<<` merge keys applied. Throws on a YAML error. */
export function parseCompose(text) {
  return parse(text, { merge: true });
}

/**
 * Every problem in a parsed compose document, as readable lines ("" when none).
 * baseDir is where relative build contexts are resolved (the compose file's directory).
 */
export function validateCompose(doc, { baseDir }) {
  const errors = [];
  const validate = schemaValidator();
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      const extra = e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : "";
      errors.push(`schema ${e.instancePath || "/"} ${e.message}${extra}`);
    }
  }
  if (!doc || typeof doc !== "object") return errors;
  const services = doc.services ?? {};
  const networks = new Set([...Object.keys(doc.networks ?? {}), "default"]);
  const volumes = new Set(Object.keys(doc.volumes ?? {}));
  for (const [name, service] of Object.entries(services)) {
    if (!service || typeof service !== "object") continue;
    errors.push(...checkBuild(name, service, baseDir));
    for (const network of namesOf(service.networks)) {
      if (!networks.has(network)) errors.push(`service ${name}: undefined network '${network}'`);
    }
    for (const target of namesOf(service.depends_on)) {
      if (!(target in services)) errors.push(`service ${name}: depends_on undefined service '${target}'`);
    }
    for (const source of volumeSources(service.volumes)) {
      if (!volumes.has(source)) errors.push(`service ${name}: undefined volume '${source}'`);
    }
    if (service.healthcheck) errors.push(...checkHealthcheck(name, service.healthcheck));
  }
  return errors;
}

/** Reads, parses and validates a compose file; YAML errors are reported like the others. */
export function validateComposeFile(file) {
  let doc;
  try {
    doc = parseCompose(readFileSync(file, "utf8"));
  } catch (error) {
    return { doc: undefined, errors: [`YAML: ${String(error.message).split("\n")[0]}`] };
  }
  return { doc, errors: validateCompose(doc, { baseDir: dirname(resolve(file)) }) };
}

function namesOf(listOrMap) {
  if (!listOrMap) return [];
  return Array.isArray(listOrMap) ? listOrMap : Object.keys(listOrMap);
}

/** Named volumes a service mounts (bind mounts start with . / ~ and need no definition). */
function volumeSources(mounts) {
  const sources = [];
  for (const mount of mounts ?? []) {
    const long = typeof mount === "object" && mount !== null;
    if (long && mount.type && mount.type !== "volume") continue;
    const source = long ? mount.source : String(mount).split(":")[0];
    // A short-syntax entry without ":" is an anonymous volume at that container path.
    if (!long && !String(mount).includes(":")) continue;
    if (source && !/^[./~$]/.test(source)) sources.push(source);
  }
  return sources;
}

function checkBuild(name, service, baseDir) {
  if (service.build === undefined) return [];
  const build = typeof service.build === "string" ? { context: service.build } : service.build;
  const contextRaw = build.context ?? ".";
  // Remote contexts (git URLs) cannot be checked offline.
  if (/^[a-z]+:\/\//i.test(contextRaw) || contextRaw.startsWith("git@")) return [];
  const context = isAbsolute(contextRaw) ? contextRaw : resolve(baseDir, contextRaw);
  if (!existsSync(context) || !statSync(context).isDirectory()) return [`service ${name}: build context '${contextRaw}' does not exist`];
  if (build.dockerfile_inline !== undefined) return [];
  const dockerfile = build.dockerfile ?? "Dockerfile";
  if (!existsSync(resolve(context, dockerfile))) return [`service ${name}: Dockerfile '${dockerfile}' not found in build context '${contextRaw}'`];
  return [];
}

// Compose durations: one or more <number><unit> parts, e.g. 10s, 1m30s, 500ms.
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/;

function checkHealthcheck(name, check) {
  const errors = [];
  const where = `service ${name}: healthcheck`;
  if (check.disable === true) return errors;
  const test = check.test;
  if (test === undefined) errors.push(`${where} has no test`);
  else if (typeof test === "string") {
    if (test.trim() === "") errors.push(`${where} test is empty`);
  } else if (Array.isArray(test)) {
    const [kind, ...rest] = test;
    if (kind === "NONE") {
      if (rest.length) errors.push(`${where} test NONE takes no arguments`);
    } else if (kind === "CMD" || kind === "CMD-SHELL") {
      if (rest.length === 0 || rest.some((part) => typeof part !== "string" || part === "")) errors.push(`${where} test ${kind} needs a non-empty command`);
      if (kind === "CMD-SHELL" && rest.length !== 1) errors.push(`${where} test CMD-SHELL takes exactly one shell string`);
    } else errors.push(`${where} test must start with CMD, CMD-SHELL or NONE (got ${JSON.stringify(kind)})`);
  } else errors.push(`${where} test must be a string or a list`);
  for (const key of ["interval", "timeout", "start_period", "start_interval"]) {
    if (check[key] !== undefined && !(typeof check[key] === "string" && DURATION.test(check[key]))) {
      errors.push(`${where} ${key} ${JSON.stringify(check[key])} is not a duration like 10s or 1m30s`);
    }
  }
  if (check.retries !== undefined && !(Number.isInteger(check.retries) && check.retries >= 0)) errors.push(`${where} retries must be a whole number`);
  return errors;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = resolve(process.argv[2] ?? join(root, "docker-compose.yml"));
  const { doc, errors } = validateComposeFile(file);
  if (errors.length) {
    for (const error of errors) console.error(`${file}: ${error}`);
    process.exit(1);
  }
  console.log(`${file}: OK (${Object.keys(doc.services ?? {}).length} services)`);
}
