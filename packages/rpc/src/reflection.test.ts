import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { Health } from "@jarvis/proto/grpc/health/v1/health";
import { ReflectionIndex } from "./reflection.js";
import { startServer, type RunningServer } from "./server.js";

const BUF = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
const PROTO = fileURLToPath(new URL("../../../proto", import.meta.url));
const run = promisify(execFile);

/**
 * Server reflection as generic tools use it: the real server on a Unix socket and `buf curl`,
 * which knows no .proto file here and learns the schema only through reflection.
 */
describe("gRPC server reflection", () => {
  let dir: string;
  let server: RunningServer;
  let socket: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jarvis-reflect-"));
    socket = join(dir, "s.sock");
    server = await startServer({
      listen: { kind: "unix", path: socket },
      serviceNames: [SessionService.typeName],
      routes: (router) => router.service(SessionService, { getStatus: () => ({ identityExists: true, locked: true, name: "reflected" }) }),
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const curl = async (...args: string[]) =>
    (await run(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--unix-socket", socket, ...args], { timeout: 30_000 })).stdout;

  it.each(["grpc-v1", "grpc-v1alpha"])("lists the services over %s", async (protocol) => {
    const services = (await curl("--reflect-protocol", protocol, "--list-services", "http://localhost")).trim().split("\n");
    expect(services).toEqual(
      expect.arrayContaining(["jarvis.session.v1.SessionService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]),
    );
  });

  it("lets buf curl call GetStatus with the schema it learned by reflection", async () => {
    const out = JSON.parse(await curl("http://localhost/jarvis.session.v1.SessionService/GetStatus")) as Record<string, unknown>;
    expect(out).toEqual({ identityExists: true, locked: true, name: "reflected" });
  });

  it("answers unknown symbols and files with NOT_FOUND, and sends each import once per stream", () => {
    const index = new ReflectionIndex([SessionService, Health]);
    expect(index.answer({ case: "fileContainingSymbol", value: "jarvis.nope.Thing" }, new Set())).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    expect(index.answer({ case: "fileByFilename", value: "nope.proto" }, new Set())).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });

    const sent = new Set<string>();
    const first = index.answer({ case: "fileContainingSymbol", value: "jarvis.session.v1.SessionService.GetStatus" }, sent);
    if (first.case !== "fileDescriptorResponse") throw new Error(`unexpected ${first.case}`);
    const names = first.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
    expect(names[0]).toBe("jarvis/session/v1/session_service.proto");
    expect(names).toContain("google/protobuf/timestamp.proto");
    expect(new Set(names).size).toBe(names.length);

    // A message in a file already sent: the file itself again, none of its imports.
    const again = index.answer({ case: "fileContainingSymbol", value: "jarvis.session.v1.Contact" }, sent);
    if (again.case !== "fileDescriptorResponse") throw new Error(`unexpected ${again.case}`);
    expect(again.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name)).toEqual(["jarvis/session/v1/resources.proto"]);
  });
});

describe("buf curl recipe for loopback TCP with the bearer token", () => {
  const token = "test-token-0123456789";
  let server: RunningServer;
  let url = "";
  beforeAll(async () => {
    server = await startServer({
      listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
      token,
      serviceNames: [SessionService.typeName],
      routes: (router) => router.service(SessionService, { getStatus: () => ({ identityExists: true, name: "tcp" }) }),
    });
    if (server.address.kind !== "tcp") throw new Error("expected a TCP address");
    url = `http://127.0.0.1:${server.address.port}/jarvis.session.v1.SessionService/GetStatus`;
  });
  afterAll(() => server.close());
  const curl = (...args: string[]) => run(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { timeout: 30_000 });

  it("calls GetStatus through reflection with the token, and is refused without it", async () => {
    // Reflection calls need the token too: --reflect-header "*" sends them the -H headers.
    const { stdout } = await curl("-H", `authorization: Bearer ${token}`, "--reflect-header", "*", url);
    expect(JSON.parse(stdout)).toEqual({ identityExists: true, name: "tcp" });
    // Without the token nothing answers, reflection included (buf curl then finds no schema), and
    // a call made with the local schema is refused.
    const noSchema = await curl(url).then(
      () => "",
      (error: { stderr?: string }) => error.stderr ?? "failed",
    );
    expect(noSchema).toMatch(/failed to find service/);
    const refused = await curl("--schema", PROTO, url).then(
      () => "",
      (error: { stderr?: string }) => error.stderr ?? "failed",
    );
    expect(refused).toMatch(/unauthenticated/i);
  });
});
