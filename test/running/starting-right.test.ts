import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LISTEN_ADDRESS, parseHostPort } from "@jarvis/core";
import { TestNode } from "../helpers/cli.js";
import { processesOfProfile } from "./processes.js";

interface Status {
  daemon: string;
  locked: boolean;
  listen: string;
}

/** A port held by someone else for the whole describe block. */
function squat(port = 0, host = "127.0.0.1"): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}
const portOf = (server: Server) => (server.address() as { port: number }).port;

describe("starting a node right", () => {
  let squatter: Server;
  const nodes: TestNode[] = [];
  const fresh = (name: string) => {
    const node = new TestNode(name);
    nodes.push(node);
    return node;
  };
  beforeAll(async () => {
    squatter = await squat();
  });
  afterAll(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.destroy()));
  });

  // Fast because nothing is started before the check (asserted below: no supervisor ever ran, so
  // no daemon log); the wall time itself is not asserted (a loaded machine would fail it).
  it("a chosen port that is busy fails before anything starts, naming the port, with nothing saved", async () => {
    const node = fresh("busy");
    const result = await node.cli(["init", "--name", "busy", "--listen", `127.0.0.1:${portOf(squatter)}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${portOf(squatter)} is already in use`);
    expect(existsSync(join(node.home, "logs", "daemon.log"))).toBe(false);
    expect(existsSync(join(node.home, "node.json"))).toBe(false);
    expect(existsSync(join(node.home, "keyfile"))).toBe(false);
    expect(processesOfProfile(node.home)).toEqual([]);
    // …and a rerun with a free port simply works (no "identity already exists").
    const again = await node.cli(["init", "--name", "busy", "--listen", "127.0.0.1:0"]);
    expect(again.code, again.stderr).toBe(0);
    expect((await node.json<Status>(["status"])).locked).toBe(false);
  });

  it("an unchosen busy default port gives a working node on another port, and says so", async () => {
    const node = fresh("dflt");
    const wanted = parseHostPort(DEFAULT_LISTEN_ADDRESS);
    // Hold the default port (unless something else on this machine already does).
    let held: Server | undefined;
    try {
      held = await squat(wanted.port, wanted.host);
    } catch {
      held = undefined;
    }
    try {
      const result = await node.cli(["init", "--name", "dflt"], { JARVIS_LISTEN: "" });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`port ${wanted.port} is in use; the node picks a free port instead`);
      const status = await node.json<Status>(["status"]);
      expect(status.locked).toBe(false);
      expect(parseHostPort(status.listen).port).not.toBe(wanted.port);
      expect(parseHostPort(status.listen).port).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => (held ? held.close(() => resolve()) : resolve()));
    }
  });

  it("up --listen NEW while running refuses clearly and saves nothing", async () => {
    const node = fresh("live");
    await node.init();
    const before = readFileSync(join(node.home, "node.json"), "utf8");
    const result = await node.cli(["up", "--listen", "127.0.0.1:1"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^jarvis: the node is already running .*; to change --listen, run jarvis down first, then jarvis up with the new value$/);
    expect(readFileSync(join(node.home, "node.json"), "utf8")).toBe(before);
    // The same flags again are not a change: up stays idempotent.
    expect((await node.cli(["up", "--listen", "127.0.0.1:0"])).code).toBe(0);
  });

  it("delete --yes works while the node is down, and leaves nothing running", async () => {
    const node = fresh("del");
    await node.init();
    await node.ok(["down"]);
    const result = await node.cli(["delete", "--yes"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe("identity deleted");
    expect(existsSync(join(node.home, "keyfile"))).toBe(false);
    expect(processesOfProfile(node.home)).toEqual([]);
  });
});
