import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it, vi } from "vitest";
import { NetworkService } from "@jarvis/proto/jarvis/network/v1/network_service";
import { ImportAccountRequestSchema, SessionService, SubscribeRequestSchema } from "@jarvis/proto/jarvis/session/v1/session_service";
import { startServer, type RunningServer } from "./server.js";

// The bearer token is checked on a call's metadata, before grpc-js reads its body: a client
// without the token, speaking raw HTTP/2, sends a large request and gets UNAUTHENTICATED while
// the server neither decodes its message nor runs a handler. Decodes are counted by wrapping
// protobuf-es's fromBinary (what the server's request deserializer calls), not by timing.

const decoded = vi.hoisted(() => new Map<string, number>());
vi.mock("@bufbuild/protobuf", async (importOriginal) => {
  const real = await importOriginal<typeof import("@bufbuild/protobuf")>();
  return {
    ...real,
    fromBinary: (schema: DescMessage, bytes: Uint8Array, options?: never) => {
      decoded.set(schema.typeName, (decoded.get(schema.typeName) ?? 0) + 1);
      return real.fromBinary(schema, bytes, options);
    },
  };
});

const TOKEN = "right-token";
const BODY_BYTES = 8 * 1024 * 1024; // far over any HTTP/2 window: the server would have to read on
const servers: RunningServer[] = [];
const sessions: ClientHttp2Session[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  for (const server of servers.splice(0)) await server.close();
  decoded.clear();
});

/** A gRPC request body: one length-prefixed, uncompressed message. */
function grpcFrame(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

interface RawAnswer {
  status: string | undefined;
  message: string | undefined;
  errorCode: string | undefined;
}

/**
 * One call over raw HTTP/2 (node:http2, no gRPC library): sends `body` and, unless `endStream`
 * is false, ends it. Resolves with grpc-status/grpc-message/jarvis-error-code, from the
 * headers of a trailers-only answer or from the trailers.
 */
function rawCall(session: ClientHttp2Session, path: string, body: Buffer, headers: Record<string, string>, endStream = true): Promise<RawAnswer> {
  const stream = session.request({
    [constants.HTTP2_HEADER_METHOD]: "POST",
    [constants.HTTP2_HEADER_PATH]: path,
    "content-type": "application/grpc",
    te: "trailers",
    ...headers,
  });
  return new Promise((resolve, reject) => {
    let answer: RawAnswer | undefined;
    const record = (h: IncomingHttpHeaders) => {
      if (h["grpc-status"] === undefined) return;
      answer = { status: String(h["grpc-status"]), message: decodeURIComponent(String(h["grpc-message"] ?? "")), errorCode: h["jarvis-error-code"] as string | undefined };
      // A request we keep open would keep the stream open: the answer is all we wait for.
      if (!endStream) {
        resolve(answer);
        stream.close();
      }
    };
    stream.on("response", record);
    stream.on("trailers", record);
    stream.on("data", () => undefined); // a unary answer's message, if admitted
    stream.on("error", reject);
    // The server ends the stream after its status, whether or not the request was finished.
    stream.on("close", () => (answer ? resolve(answer) : reject(new Error(`stream closed without a grpc-status (rst ${stream.rstCode})`))));
    // Written without waiting for room: a refused call must be answered even though the server
    // never opens its window for this body.
    stream.write(body);
    if (endStream) stream.end();
  });
}

async function serveWithToken() {
  const ran = { importAccount: 0, subscribe: 0, link: 0 };
  const server = await startServer({
    listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
    token: TOKEN,
    openMethods: [`${NetworkService.typeName}/Authenticate`],
    serviceNames: [SessionService.typeName],
    routes: (router) => {
      router.service(SessionService, {
        importAccount: () => (ran.importAccount++, {}),
        subscribe: async function* () {
          ran.subscribe++;
          yield {};
        },
      });
      router.service(NetworkService, {
        authenticate: () => ({}),
        link: async function* () {
          ran.link++;
          yield {};
        },
      });
    },
  });
  servers.push(server);
  if (server.address.kind !== "tcp") throw new Error("expected a TCP listener");
  const session = connect(`http://127.0.0.1:${server.address.port}`);
  sessions.push(session);
  return { ran, session };
}

const IMPORT_ACCOUNT = `/${SessionService.typeName}/ImportAccount`;
const largeRequest = () => grpcFrame(toBinary(ImportAccountRequestSchema, create(ImportAccountRequestSchema, { archive: new Uint8Array(BODY_BYTES), password: "p" })));

describe("the bearer token is checked before the request body is read", () => {
  it("answers a large unary call without the token UNAUTHENTICATED, with no decode and no handler run", async () => {
    const { ran, session } = await serveWithToken();
    const body = largeRequest();
    for (const headers of [{}, { authorization: "Bearer wrong-token" }]) {
      const answer = await rawCall(session, IMPORT_ACCOUNT, body, headers);
      expect(answer).toEqual({ status: "16", message: expect.stringMatching(/token/i) as unknown, errorCode: "unauthenticated" });
    }
    expect(decoded.get(ImportAccountRequestSchema.typeName) ?? 0).toBe(0);
    expect(ran.importAccount).toBe(0);

    // The same request with the token, on the same connection: decoded once, handled once.
    const admitted = await rawCall(session, IMPORT_ACCOUNT, body, { authorization: `Bearer ${TOKEN}` });
    expect(admitted.status).toBe("0");
    expect(decoded.get(ImportAccountRequestSchema.typeName)).toBe(1);
    expect(ran.importAccount).toBe(1);
  });

  it("never opens a stream without the token, even one whose request never ends; open methods stay open", async () => {
    const { ran, session } = await serveWithToken();
    // A server stream's request (grpc-js would read and decode it, then wait for the half-close)
    // and a bidi stream, neither ended: both answered at once, nothing decoded, no handler run.
    const subscribe = toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { afterCursor: 7n }));
    for (const [method, body] of [["Subscribe", subscribe], ["Link", new Uint8Array(1024)]] as const) {
      const service = method === "Subscribe" ? SessionService : NetworkService;
      const answer = await rawCall(session, `/${service.typeName}/${method}`, grpcFrame(body), {}, false);
      expect(answer.status, method).toBe("16");
    }
    expect(ran).toEqual({ importAccount: 0, subscribe: 0, link: 0 });
    expect(decoded.size).toBe(0);

    const open = await rawCall(session, `/${NetworkService.typeName}/Authenticate`, grpcFrame(new Uint8Array(0)), {});
    expect(open.status).toBe("0");
  });
});
