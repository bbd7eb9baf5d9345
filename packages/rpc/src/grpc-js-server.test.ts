import { getEventListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncQueue, NotFoundError } from "@jarvis/core";
import { NetworkService, type LinkRequest } from "@jarvis/proto/jarvis/network/v1/network_service";
import { GetStatusResponseSchema, SendMessageRequestSchema, SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { create, toBinary } from "@bufbuild/protobuf";
import { createIpcTransport } from "./client.js";
import { errorCodeOf } from "./errors.js";
import { startServer, type RunningServer, type ServerOptions } from "./server.js";

// What the grpc-js adapter itself must get right, through a real server and the connect client
// the services use: flow control on server streams, the token checked before any handler runs,
// no 4 MiB cap, and handler signals that abort on cancel and on close.

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function serve(routes: ServerOptions["routes"], more: Partial<ServerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "jarvis-grpcjs-"));
  dirs.push(dir);
  const server = await startServer({ listen: { kind: "unix", path: join(dir, "s.sock") }, serviceNames: [], routes, ...more });
  servers.push(server);
  return server;
}

/** Lets the event loop turn `n` times (client and server share it): a bound by count, not time. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("the grpc-js server stack", () => {
  it("produces a server stream only as fast as the client reads it", async () => {
    const TOTAL = 400;
    const payload = new Uint8Array(64 * 1024);
    let produced = 0;
    const server = await serve((router) =>
      router.service(NetworkService, {
        async *link() {
          for (let i = 0; i < TOTAL; i++) {
            produced++;
            yield { body: { case: "frame", value: { publicKey: Uint8Array.of(i % 256), payload } } };
          }
        },
      }),
    );
    const client = createClient(NetworkService, createIpcTransport(server.address));
    const requests = new AsyncQueue<LinkRequest>();
    const responses = client.link(requests)[Symbol.asyncIterator]();
    await responses.next();
    await turns(200);
    // 400 × 64 KiB is 25 MiB; what is in flight is bounded by HTTP/2 windows and socket buffers.
    expect(produced).toBeLessThan(TOTAL / 4);
    let received = 1;
    while (!(await responses.next()).done) received++;
    expect(received).toBe(TOTAL);
    requests.end();
  });

  it("lets a stream named in queuedResponses run that many responses ahead of its reader, and no further", async () => {
    const TOTAL = 400;
    const AHEAD = 150;
    const payload = new Uint8Array(64 * 1024);
    let produced = 0;
    const server = await serve(
      (router) =>
        router.service(NetworkService, {
          async *link() {
            for (let i = 0; i < TOTAL; i++) {
              produced++;
              yield { body: { case: "frame", value: { publicKey: Uint8Array.of(i % 256), payload } } };
            }
          },
        }),
      { queuedResponses: { [`${NetworkService.typeName}/Link`]: AHEAD } },
    );
    const client = createClient(NetworkService, createIpcTransport(server.address));
    const requests = new AsyncQueue<LinkRequest>();
    const responses = client.link(requests)[Symbol.asyncIterator]();
    await responses.next();
    await turns(200);
    // The same reader as above holds an unnamed stream under TOTAL / 4: the allowance is what
    // lets this one go further, and it still stops (HTTP/2 windows hold the rest back).
    expect(produced).toBeGreaterThanOrEqual(AHEAD);
    expect(produced).toBeLessThan(AHEAD + TOTAL / 4);
    let received = 1;
    while (!(await responses.next()).done) received++;
    expect(received).toBe(TOTAL);
    requests.end();
  });

  it("refuses a call without the token before its handler runs (unary and streams)", async () => {
    let ran = 0;
    const server = await serve(
      (router) =>
        router.service(NetworkService, {
          getStatus: () => (ran++, {}),
          authenticate: () => ({}),
          link: async function* () {
            ran++;
            yield {};
          },
        }),
      { listen: { kind: "tcp", host: "127.0.0.1", port: 0 }, token: "right", openMethods: [`${NetworkService.typeName}/Authenticate`] },
    );
    expect(server.address.kind === "tcp" && server.address.port).toBeGreaterThan(0);
    const wrong = createClient(NetworkService, createIpcTransport(server.address, { token: "wrong" }));
    await expect(wrong.getStatus({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    const stream = wrong.link(new AsyncQueue<LinkRequest>());
    const drain = async () => {
      for await (const _ of stream) void _;
    };
    await expect(drain()).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect(ran).toBe(0);
    await expect(wrong.authenticate({})).resolves.toBeDefined();
    await createClient(NetworkService, createIpcTransport(server.address, { token: "right" })).getStatus({});
    expect(ran).toBe(1);
  });

  it("adds no abort listener to a shared signal per call in flight", async () => {
    // connect-node's server linked every call's signal to its shutdown signal: with more than 10
    // calls in flight, Node printed a MaxListenersExceededWarning (bench serverStacks). Here
    // 32 calls wait inside the handler at once, and the shutdown signal still has no listener.
    const IN_FLIGHT = 32;
    const entered = new AsyncQueue<number>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = await serve((router) =>
      router.service(SessionService, {
        getStatus: async () => {
          entered.push(1);
          await gate;
          return {};
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    const calls = Array.from({ length: IN_FLIGHT }, () => client.getStatus({}));
    const arrivals = entered[Symbol.asyncIterator]();
    for (let i = 0; i < IN_FLIGHT; i++) await arrivals.next();
    expect(getEventListeners(server.shutdownSignal, "abort")).toHaveLength(0);
    release();
    await Promise.all(calls);
  });

  it("takes a request larger than grpc-js's default 4 MiB cap", async () => {
    const server = await serve((router) => router.service(SessionService, { importAccount: (req) => ({ identity: { name: String(req.archive.length) } }) }));
    const client = createClient(SessionService, createIpcTransport(server.address));
    const size = 6 * 1024 * 1024;
    const res = await client.importAccount({ archive: new Uint8Array(size), password: "p" });
    expect(res.identity?.name).toBe(String(size));
  });

  it("ends a stream with a mid-stream domain error mapped like a unary one", async () => {
    const server = await serve((router) =>
      router.service(SessionService, {
        async *subscribe() {
          yield {};
          throw new NotFoundError("gone", "unknown-thing");
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    let seen = 0;
    const error = await (async () => {
      for await (const _ of client.subscribe({})) seen++;
    })().catch((e: unknown) => e);
    expect(seen).toBe(1);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    expect(errorCodeOf(error)).toBe("unknown-thing");
  });

  it("aborts the handler's signal when the client cancels, and on close", async () => {
    const aborted: string[] = [];
    const started = new AsyncQueue<string>();
    const server = await serve((router) =>
      router.service(SessionService, {
        async *subscribe(req, ctx) {
          started.push(String(req.afterCursor));
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          aborted.push(String(req.afterCursor));
          yield {}; // a cancelled call drops it; a closing server still sends it
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    const cancel = new AbortController();
    const first = (async () => {
      for await (const _ of client.subscribe({ afterCursor: 1n }, { signal: cancel.signal })) void _;
    })().catch(() => "cancelled");
    const starts = started[Symbol.asyncIterator]();
    await starts.next();
    cancel.abort();
    expect(await first).toBe("cancelled");
    const second = (async () => {
      let n = 0;
      for await (const _ of client.subscribe({ afterCursor: 2n })) n++;
      return n;
    })();
    await starts.next();
    await server.close();
    expect(await second).toBe(1); // the handler ended on the shutdown signal: the stream ends cleanly
    expect(server.shutdownSignal.aborted).toBe(true);
    expect(aborted.sort()).toEqual(["1", "2"]);
  });

  it("encodes and decodes with a registered codec, and with protobuf-es where the codec declines", async () => {
    const seen: string[] = [];
    const server = await serve(
      (router) =>
        router.service(SessionService, {
          getStatus: () => ({ latestCursor: 1n }),
          sendMessage: (req) => {
            seen.push(req.text);
            return {};
          },
        }),
      {
        codecs: [
          // Visible in what the client gets: the codec answers cursor 2 where the handler said 1.
          { schema: GetStatusResponseSchema, encode: (m) => (seen.length > 0 ? undefined : toBinary(GetStatusResponseSchema, { ...m, latestCursor: 2n })) },
          { schema: SendMessageRequestSchema, decode: (bytes) => (bytes.length > 5 ? undefined : create(SendMessageRequestSchema, { text: "decoded by the codec" })) },
        ],
      },
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    expect((await client.getStatus({})).latestCursor).toBe(2n);
    await client.sendMessage({ text: "hi" });
    await client.sendMessage({ text: "long enough to be declined" });
    expect(seen).toEqual(["decoded by the codec", "long enough to be declined"]);
    expect((await client.getStatus({})).latestCursor).toBe(1n);
  });
});
