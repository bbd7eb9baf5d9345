import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LockedError, NotFoundError } from "@jarvis/core";
import { ErrorInfoSchema, file_google_rpc_error_details } from "@jarvis/proto/google/rpc/error_details";
import { StatusSchema } from "@jarvis/proto/google/rpc/status";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { createRegistry } from "@bufbuild/protobuf";
import { createGrpcJsClient, unary } from "../../../test/helpers/grpcjs.js";
import { createIpcTransport } from "./client.js";
import { ERROR_CODE_HEADER, errorCodeOf } from "./errors.js";
import { startServer, type RunningServer } from "./server.js";

/**
 * The domain error code on the wire, as a program in another language reads it: a stock grpc-js
 * client decodes google.rpc.Status from `grpc-status-details-bin` and finds ErrorInfo in it.
 */
describe("error details", () => {
  let dir: string;
  let server: RunningServer;
  let socket: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "jarvis-errdetail-"));
    socket = join(dir, "s.sock");
    server = await startServer({
      listen: { kind: "unix", path: socket },
      serviceNames: [SessionService.typeName],
      routes: (router) =>
        router.service(SessionService, {
          listContacts: () => {
            throw new LockedError();
          },
          getContact: (req) => {
            throw new NotFoundError(`no contact ${req.contact}`, "unknown-contact");
          },
        }),
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reaches a grpc-js client as google.rpc.ErrorInfo (reason = stable code, domain = jarvis), header kept", async () => {
    const client = createGrpcJsClient(SessionService, `unix://${socket}`);
    try {
      const error = await unary(client, "getContact", { contact: "bob" }).then(
        () => undefined,
        (e: unknown) => e as grpc.ServiceError,
      );
      expect(error?.code).toBe(grpc.status.NOT_FOUND);
      const [bin] = error!.metadata.get("grpc-status-details-bin");
      const status = fromBinary(StatusSchema, bin as Buffer);
      expect(status.code).toBe(grpc.status.NOT_FOUND);
      expect(status.details).toHaveLength(1);
      const info = anyUnpack(status.details[0]!, createRegistry(file_google_rpc_error_details));
      expect(info?.$typeName).toBe("google.rpc.ErrorInfo");
      expect(info).toMatchObject({ reason: "unknown-contact", domain: "jarvis" });
      expect(error!.metadata.get(ERROR_CODE_HEADER)).toEqual(["unknown-contact"]);
    } finally {
      client.close();
    }
  });

  it("is what errorCodeOf reads on the connect side", async () => {
    const client = createClient(SessionService, createIpcTransport({ kind: "unix", path: socket }));
    const error = await client.listContacts({}).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof ConnectError)) throw new Error("expected a ConnectError");
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.findDetails(ErrorInfoSchema)).toMatchObject([{ reason: "locked", domain: "jarvis" }]);
    expect(errorCodeOf(error)).toBe("locked");
  });

  it("prefers the detail over the legacy header", () => {
    const both = new ConnectError("x", Code.NotFound, { [ERROR_CODE_HEADER]: "old" }, [{ desc: ErrorInfoSchema, value: { reason: "new", domain: "jarvis" } }]);
    expect(errorCodeOf(both)).toBe("new");
    const foreign = new ConnectError("x", Code.NotFound, { [ERROR_CODE_HEADER]: "old" }, [{ desc: ErrorInfoSchema, value: { reason: "THEIRS", domain: "example.com" } }]);
    expect(errorCodeOf(foreign)).toBe("old");
  });
});
