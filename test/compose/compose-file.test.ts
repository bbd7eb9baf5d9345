import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain JS module (scripts/ is not part of the TypeScript build)
import { parseCompose, validateCompose, validateComposeFile } from "../../scripts/compose-validate.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const composeFile = join(root, "docker-compose.yml");

interface Service {
  [key: string]: unknown;
  healthcheck?: Record<string, unknown>;
  volumes?: string[];
  networks?: string[];
  build?: { context: string; dockerfile?: string };
  depends_on?: Record<string, unknown>;
}
interface ComposeDoc {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks: Record<string, unknown>;
}

/** A fresh parse each time, so every mutation starts from the real file. */
function realDoc(): ComposeDoc {
  return parseCompose(readFileSync(composeFile, "utf8")) as ComposeDoc;
}
const check = (doc: unknown): string[] => validateCompose(doc, { baseDir: root }) as string[];

describe("docker-compose.yml", () => {
  it("passes the compose-spec schema and every cross-reference check", () => {
    const { errors } = validateComposeFile(composeFile) as { errors: string[] };
    expect(errors).toEqual([]);
  });

  it("is the three-node mesh: a network and a session container per node sharing its volume", () => {
    const doc = realDoc();
    for (const name of ["alice", "bob", "carol"]) {
      const network = doc.services[`${name}-network`];
      const session = doc.services[`${name}-session`];
      expect(network.volumes).toEqual([`${name}-data:/data`]);
      expect(session.volumes).toEqual([`${name}-data:/data`]);
      expect(session.depends_on).toEqual({ [`${name}-network`]: { condition: "service_healthy" } });
      expect(session.environment).toMatchObject({ JARVIS_ADVERTISE: `${name}-network:7000` });
      expect((network.healthcheck?.test as string[]).slice(0, 2)).toEqual(["CMD", "node"]);
    }
    expect(Object.keys(doc.services["mesh-init"].depends_on ?? {}).sort()).toEqual(["alice-session", "bob-session", "carol-session"]);
  });

  // Each mutation must be caught, and caught for the right reason.
  const rejections: Array<[string, (doc: ComposeDoc) => void, RegExp]> = [
    ["an unknown key", (doc) => (doc.services["bob-network"].hostnam = "bob"), /additional properties \(hostnam\)/],
    ["an unknown top-level key", (doc) => ((doc as unknown as Record<string, unknown>).servics = {}), /additional properties \(servics\)/],
    ["a missing build context", (doc) => (doc.services["alice-session"].build = { context: "./no-such-dir" }), /alice-session: build context '.\/no-such-dir' does not exist/],
    ["a build context without its Dockerfile", (doc) => (doc.services["alice-session"].build = { context: "./docker" }), /Dockerfile 'Dockerfile' not found in build context '.\/docker'/],
    ["an undefined volume", (doc) => (doc.services["carol-session"].volumes = ["carol-dat:/data"]), /carol-session: undefined volume 'carol-dat'/],
    ["a removed volume definition", (doc) => delete doc.volumes["bob-data"], /bob-network: undefined volume 'bob-data'/],
    ["an undefined network", (doc) => (doc.services["alice-network"].networks = ["nowhere"]), /alice-network: undefined network 'nowhere'/],
    ["a depends_on on no service", (doc) => (doc.services["bob-session"].depends_on = { "bob-netwrk": { condition: "service_healthy" } }), /depends_on undefined service 'bob-netwrk'/],
    ["a healthcheck test with an unknown form", (doc) => (doc.services["alice-network"].healthcheck = { test: ["RUN", "node", "docker/health.js"] }), /test must start with CMD, CMD-SHELL or NONE/],
    ["a healthcheck CMD without a command", (doc) => (doc.services["alice-network"].healthcheck = { test: ["CMD"] }), /test CMD needs a non-empty command/],
    ["a healthcheck with a bad interval", (doc) => (doc.services["bob-network"].healthcheck = { test: ["CMD", "true"], interval: "10 seconds" }), /interval "10 seconds" is not a duration/],
    ["a healthcheck with a numeric timeout", (doc) => (doc.services["bob-network"].healthcheck = { test: ["CMD", "true"], timeout: 5 }), /timeout 5 is not a duration/],
    ["a healthcheck test of the wrong type", (doc) => (doc.services["carol-network"].healthcheck = { test: { cmd: "true" } }), /healthcheck/],
  ];
  it.each(rejections)("rejects %s", (_label, mutate, expected) => {
    const doc = realDoc();
    mutate(doc);
    const errors = check(doc);
    expect(errors.some((e) => expected.test(e)), errors.join("\n")).toBe(true);
  });

  it("rejects a YAML syntax error with a YAML message", () => {
    expect(() => parseCompose("services:\n  a:\n    image: x\n   bad: [")).toThrow();
  });

  it("accepts valid healthcheck forms it should not flag", () => {
    const doc = realDoc();
    doc.services["alice-network"].healthcheck = { test: "node docker/health.js network", interval: "1m30s", timeout: "500ms", retries: 0 };
    doc.services["bob-network"].healthcheck = { test: ["CMD-SHELL", "node docker/health.js network || exit 1"] };
    doc.services["carol-network"].healthcheck = { test: ["NONE"] };
    expect(check(doc)).toEqual([]);
  });
});
