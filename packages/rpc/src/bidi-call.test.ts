import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncQueue, NotFoundError } from "@jarvis/core";
import { SendMessagesRequestSchema, SendMessagesResponseSchema, SessionService, type SendMessagesRequest } from "@jarvis/proto/jarvis/session/v1/session_service";
import { createIpcTransport } from "./client.js";
import { errorCodeOf } from "./errors.js";
import { startServer, type RunningServer, type ServerOptions } from "./server.js";

// The client's own bidi path (bidi-call.ts) against the real grpc-js server: requests written
// as the caller yields them, answers in order, headers and trailers, mid-stream errors, the
// caller's iterable failing or stopping, and the transport's codecs used both ways.

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function serve(routes: ServerOptions["routes"]) {
  const dir = mkdtempSync(join(tmpdir(), "jarvis-bidi-"));
  dirs.push(dir);
  const server = await startServer({ listen: { kind: "unix", path: join(dir, "s.sock") }, serviceNames: [], routes });
  servers.push(server);
  return server;
}

/** SendMessages answering each request with its correlation id and text, after `header`. */
const echo = (router: Parameters<ServerOptions["routes"]>[0]) =>
  router.service(SessionService, {
    async *sendMessages(requests, ctx) {
      ctx.responseHeader.set("x-reply", ctx.requestHeader.get("x-asked") ?? "missing");
      ctx.responseTrailer.set("x-trail", "t");
      for await (const request of requests) yield { correlationId: request.correlationId, result: { case: "message", value: { text: request.text } } };
    },
  });

async function* numbered(n: number, text = "m"): AsyncGenerator<{ correlationId: string; text: string }> {
  for (let i = 0; i < n; i++) yield { correlationId: String(i), text };
}

describe("the client's bidi path", () => {
  it("answers every request in order, with call headers both ways and the trailer", async () => {
    const server = await serve(echo);
    const transport = createIpcTransport(server.address, { leanBidi: true });
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const answers: string[] = [];
    const client = createClient(SessionService, transport);
    for await (const answer of client.sendMessages(numbered(3000), { headers: { "x-asked": "h" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) })) {
      answers.push(answer.correlationId);
    }
    expect(answers).toEqual(Array.from({ length: 3000 }, (_, i) => String(i)));
    expect(header?.get("x-reply")).toBe("h");
    expect(trailer?.get("x-trail")).toBe("t");
  });

  it("ends when the server ends the call, while the caller's requests are still open", async () => {
    const server = await serve((router) =>
      router.service(SessionService, {
        async *sendMessages() {
          yield { correlationId: "a" };
          yield { correlationId: "b" };
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address, { leanBidi: true }));
    const requests = new AsyncQueue<{ correlationId: string }>();
    const seen: string[] = [];
    for await (const answer of client.sendMessages(requests)) seen.push(answer.correlationId);
    expect(seen).toEqual(["a", "b"]);
    requests.end();
  });

  it("carries a request larger than many HTTP/2 frames both ways", async () => {
    const server = await serve(echo);
    const client = createClient(SessionService, createIpcTransport(server.address, { leanBidi: true }));
    const texts: string[] = [];
    for await (const answer of client.sendMessages(numbered(3, "é".repeat(200_000)))) texts.push(answer.result.case === "message" ? answer.result.value.text : "");
    expect(texts).toEqual(["é".repeat(200_000), "é".repeat(200_000), "é".repeat(200_000)]);
  });

  it("hands over the answers sent before a mid-stream error, then the mapped error", async () => {
    const server = await serve((router) =>
      router.service(SessionService, {
        async *sendMessages(requests) {
          let n = 0;
          for await (const request of requests) {
            if (++n > 2) throw new NotFoundError("gone", "unknown-thing");
            yield { correlationId: request.correlationId };
          }
        },
      }),
    );
    const client = createClient(SessionService, createIpcTransport(server.address, { leanBidi: true }));
    const seen: string[] = [];
    const error = await (async () => {
      for await (const answer of client.sendMessages(numbered(10))) seen.push(answer.correlationId);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(["0", "1"]);
    expect((error as ConnectError).code).toBe(Code.NotFound);
    expect(errorCodeOf(error)).toBe("unknown-thing");
  });

  it("fails the call with the caller's iterable's error, and the handler's signal aborts", async () => {
    const ended = new AsyncQueue<string>();
    const server = await serve((router) =>
      router.service(SessionService, {
        async *sendMessages(requests, ctx) {
          ctx.signal.addEventListener("abort", () => ended.push("aborted"), { once: true });
          for await (const request of requests) yield { correlationId: request.correlationId };
        },
      }),
    );
    async function* failing() {
      yield { correlationId: "a" };
      throw new Error("the caller broke");
    }
    const client = createClient(SessionService, createIpcTransport(server.address, { leanBidi: true }));
    const error = await (async () => {
      for await (const _ of client.sendMessages(failing())) void _;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toContain("the caller broke");
    expect(await ended[Symbol.asyncIterator]().next()).toEqual({ done: false, value: "aborted" });
  });

  it("cancels on the caller's signal: CANCELED, the handler's signal aborts, the caller's iterable is returned", async () => {
    const ended = new AsyncQueue<string>();
    const server = await serve((router) =>
      router.service(SessionService, {
        async *sendMessages(requests, ctx) {
          ctx.signal.addEventListener("abort", () => ended.push("aborted"), { once: true });
          for await (const request of requests) yield { correlationId: request.correlationId };
        },
      }),
    );
    const pulls = new AsyncQueue<number>();
    let closed = false;
    async function* endless() {
      try {
        for (let i = 0; ; i++) {
          pulls.push(i);
          yield { correlationId: String(i) };
        }
      } finally {
        closed = true;
      }
    }
    const cancel = new AbortController();
    const client = createClient(SessionService, createIpcTransport(server.address, { leanBidi: true }));
    const error = await (async () => {
      for await (const answer of client.sendMessages(endless(), { signal: cancel.signal })) if (answer.correlationId === "5") cancel.abort();
    })().catch((e: unknown) => e);
    expect((error as ConnectError).code).toBe(Code.Canceled);
    expect(await ended[Symbol.asyncIterator]().next()).toEqual({ done: false, value: "aborted" });
    // The writer notices the ended call at its next pull (or drain) and returns the caller's generator.
    const seen = pulls[Symbol.asyncIterator]();
    while (!closed) await seen.next();
    expect(closed).toBe(true);
  });

  it("encodes requests and decodes answers with the transport's codecs, and protobuf-es where they decline", async () => {
    const server = await serve(echo);
    const encoded: string[] = [];
    const client = createClient(
      SessionService,
      createIpcTransport(server.address, {
        leanBidi: true,
        codecs: [
          {
            schema: SendMessagesRequestSchema,
            // Visible on the server: the codec sends a different text for request "0", declines the others.
            encode: (m) => {
              const request = m as SendMessagesRequest;
              encoded.push(request.correlationId);
              return request.correlationId === "0" ? toBinaryOf({ ...request, text: "by the codec" }) : undefined;
            },
          },
          { schema: SendMessagesResponseSchema, decode: (bytes) => (bytes[2] === 0x31 ? create(SendMessagesResponseSchema, { correlationId: "decoded 1" }) : undefined) },
        ],
      }),
    );
    const answers: string[] = [];
    for await (const answer of client.sendMessages(numbered(3))) answers.push(`${answer.correlationId}:${answer.result.case === "message" ? answer.result.value.text : "-"}`);
    expect(encoded).toEqual(["0", "1", "2"]);
    expect(answers).toEqual(["0:by the codec", "decoded 1:-", "2:m"]);
  });
});

function toBinaryOf(request: SendMessagesRequest): Uint8Array {
  const text = Buffer.from(request.text);
  const id = Buffer.from(request.correlationId);
  return Buffer.concat([Buffer.from([0x0a, id.length]), id, Buffer.from([0x1a, text.length]), text]);
}
