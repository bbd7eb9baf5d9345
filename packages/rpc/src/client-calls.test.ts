import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createH2Server, type ServerHttp2Session } from "node:http2";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncQueue, NotFoundError } from "@jarvis/core";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { createIpcTransport } from "./client.js";
import { errorCodeOf } from "./errors.js";
import { startServer, type RunningServer, type ServerOptions } from "./server.js";

// The client's own unary and server-streaming paths (unary-call.ts, server-stream-call.ts)
// against the real grpc-js server: what connect's paths did for us must still hold — headers
// both ways, deadlines, cancellation reaching the handler, error statuses with their details
// (after the messages sent before them), and the codes for a server that is not there.

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "jarvis-unary-"));
  dirs.push(dir);
  return dir;
}

async function serve(routes: ServerOptions["routes"]) {
  const server = await startServer({ listen: { kind: "unix", path: join(tempDir(), "s.sock") }, serviceNames: [], routes });
  servers.push(server);
  return server;
}

/** A handler that waits until its call is cancelled, reporting when it starts and how it ended. */
function waitingGetStatus(started: AsyncQueue<string>, ended: AsyncQueue<string>) {
  return (router: Parameters<ServerOptions["routes"]>[0]) =>
    router.service(SessionService, {
      getStatus: async (_req, ctx) => {
        started.push(ctx.timeoutMs() === undefined ? "no deadline" : "deadline");
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        ended.push("aborted");
        return {};
      },
    });
}

describe("the client's unary path", () => {
  it("sends call headers and returns the response's header and trailer", async () => {
    const server = await serve((router) =>
      router.service(SessionService, {
        getIdentity: (_req, ctx) => {
          ctx.responseHeader.set("x-reply", "h");
          ctx.responseTrailer.set("x-trail", "t");
          return { identity: { name: ctx.requestHeader.get("x-asked") ?? "missing" } };
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const res = await client.getIdentity({}, { headers: { "x-asked": "alice" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    expect(res.identity?.name).toBe("alice");
    expect(header?.get("x-reply")).toBe("h");
    expect(trailer?.get("x-trail")).toBe("t");
    expect(trailer?.get("grpc-status")).toBe("0");
  });

  it("gives up at the deadline with DEADLINE_EXCEEDED, and the handler sees the call end", async () => {
    const started = new AsyncQueue<string>();
    const ended = new AsyncQueue<string>();
    const server = await serve(waitingGetStatus(started, ended));
    const client = createClient(SessionService, createIpcTransport(server.address));
    const error = await client.getStatus({}, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
    const starts = started[Symbol.asyncIterator]();
    expect((await starts.next()).value).toBe("deadline"); // the deadline travels (grpc-timeout)
    expect((await ended[Symbol.asyncIterator]().next()).value).toBe("aborted");
  });

  it("cancels on the caller's signal: CANCELED, and the handler's signal aborts", async () => {
    const started = new AsyncQueue<string>();
    const ended = new AsyncQueue<string>();
    const server = await serve(waitingGetStatus(started, ended));
    const client = createClient(SessionService, createIpcTransport(server.address));
    const cancel = new AbortController();
    const call = client.getStatus({}, { signal: cancel.signal }).catch((e: unknown) => e);
    expect((await started[Symbol.asyncIterator]().next()).value).toBe("no deadline");
    cancel.abort();
    expect(((await call) as ConnectError).code).toBe(Code.Canceled);
    expect((await ended[Symbol.asyncIterator]().next()).value).toBe("aborted");
  });

  it("does not start a call whose signal is already aborted", async () => {
    let calls = 0;
    const server = await serve((router) => router.service(SessionService, { getStatus: () => (calls++, {}) }));
    const client = createClient(SessionService, createIpcTransport(server.address));
    const error = await client.getStatus({}, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Canceled);
    await client.getStatus({}); // the connection is fine, and this is the only call that arrives
    expect(calls).toBe(1);
  });

  it("maps a domain error to its status with the Jarvis code in the details", async () => {
    const server = await serve((router) =>
      router.service(SessionService, {
        getStatus: () => {
          throw new NotFoundError("no such thing");
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    const error = await client.getStatus({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    expect((error as ConnectError).rawMessage).toBe("no such thing");
    expect(errorCodeOf(error)).toBe("not-found");
  });

  it("reports a socket with no server behind it as UNAVAILABLE (the CLI's 'daemon not running')", async () => {
    // A port that was just free: listen on 0, note the port, close.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const client = createClient(SessionService, createIpcTransport({ kind: "tcp", host: "127.0.0.1", port }));
    const error = await client.getStatus({}).catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect(errorCodeOf(error)).toBeUndefined();
  });

  it("answers a server that is not gRPC with a protocol error, not a hang", async () => {
    // An HTTP/2 server that answers every stream 200 with a text body and no grpc-status.
    const sessions: ServerHttp2Session[] = [];
    const h2 = createH2Server((_req, res) => {
      res.setHeader("content-type", "text/plain");
      res.end("hello");
    });
    h2.on("session", (session) => sessions.push(session));
    const path = join(tempDir(), "h2.sock");
    await new Promise<void>((resolve) => h2.listen(path, resolve));
    try {
      const client = createClient(SessionService, createIpcTransport({ kind: "unix", path }));
      const error = await client.getStatus({}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).rawMessage).toMatch(/unsupported content type/);
    } finally {
      for (const session of sessions) session.destroy(); // the client keeps its connection open
      await new Promise((resolve) => h2.close(resolve));
    }
  });
});

describe("the client's server-streaming path", () => {
  it("delivers every message in order, split across frames or packed in one, then the trailer", async () => {
    const COUNT = 200;
    const server = await serve((router) =>
      router.service(SessionService, {
        async *subscribe(_req, ctx) {
          ctx.responseTrailer.set("x-sent", String(COUNT));
          // Sizes from 0 to ~20 KB: envelopes straddle HTTP/2 DATA frames and share them.
          for (let i = 0; i < COUNT; i++) yield { cursor: BigInt(i), event: { case: "messageReceived", value: { message: { text: "x".repeat((i * 97) % 20_000) } } } };
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    let trailer: Headers | undefined;
    const cursors: bigint[] = [];
    for await (const event of client.subscribe({}, { onTrailer: (t) => (trailer = t) })) {
      cursors.push(event.cursor);
      if (event.event.case === "messageReceived") expect(event.event.value.message?.text.length).toBe((Number(event.cursor) * 97) % 20_000);
    }
    expect(cursors).toEqual(Array.from({ length: COUNT }, (_, i) => BigInt(i)));
    expect(trailer?.get("x-sent")).toBe(String(COUNT));
  });

  it("reassembles a message larger than many HTTP/2 frames", async () => {
    const big = "b".repeat(3 * 1024 * 1024);
    const server = await serve((router) =>
      router.service(SessionService, {
        async *subscribe() {
          yield { cursor: 1n, event: { case: "messageReceived", value: { message: { text: big } } } };
          yield { cursor: 2n };
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    const texts: string[] = [];
    for await (const event of client.subscribe({})) texts.push(event.event.case === "messageReceived" ? (event.event.value.message?.text ?? "") : `cursor ${event.cursor}`);
    expect(texts).toEqual([big, "cursor 2"]);
  });

  it("hands over the messages sent before a mid-stream error, then the mapped error", async () => {
    const server = await serve((router) =>
      router.service(SessionService, {
        async *subscribe() {
          yield { cursor: 1n };
          yield { cursor: 2n };
          throw new NotFoundError("gone mid-stream");
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    const cursors: bigint[] = [];
    const error = await (async () => {
      for await (const event of client.subscribe({})) cursors.push(event.cursor);
    })().catch((e: unknown) => e);
    expect(cursors).toEqual([1n, 2n]);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    expect(errorCodeOf(error)).toBe("not-found");
  });

  it("fails at once on an error answered before any message", async () => {
    const server = await serve((router) =>
      router.service(SessionService, {
        // eslint-disable-next-line require-yield -- fails before its first message
        async *subscribe() {
          throw new NotFoundError("nothing to watch");
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    const error = await (async () => {
      for await (const _ of client.subscribe({})) void _;
    })().catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    expect((error as ConnectError).rawMessage).toBe("nothing to watch");
  });

  it("ends a stream at its deadline with DEADLINE_EXCEEDED, and the handler sees it end", async () => {
    const ended = new AsyncQueue<string>();
    const server = await serve((router) =>
      router.service(SessionService, {
        async *subscribe(_req, ctx) {
          yield { cursor: 1n };
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
          ended.push("aborted");
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address));
    const cursors: bigint[] = [];
    const error = await (async () => {
      for await (const event of client.subscribe({}, { timeoutMs: 200 })) cursors.push(event.cursor);
    })().catch((e: unknown) => e);
    expect(cursors).toEqual([1n]);
    expect((error as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect((await ended[Symbol.asyncIterator]().next()).value).toBe("aborted");
  });
});
