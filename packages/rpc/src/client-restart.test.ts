import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncQueue } from "@jarvis/core";
import { SessionService, type SendMessagesRequest } from "@jarvis/proto/jarvis/session/v1/session_service";
import { createIpcTransport } from "./client.js";

// What a client sees when the server process dies under it (kill -9, SIGSTOP, a graceful
// close), as faults-kill does to the session and network services: calls in flight and open
// server streams must fail (never hang, never end as if complete), and the same transport must
// reach the restarted server. (connect-node's own transport behaves the same here, except that
// it reports a call cut by the peer's death as CANCELED, where ours says UNAVAILABLE, INTERNAL or ABORTED.)

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

/**
 * The server child: GetStatus answers its pid (or holds the call when asked), Subscribe sends
 * one event then holds (or holds before any event when after_cursor is 99). It prints a line
 * when it is ready and when a held call or stream has begun.
 */
const SERVER = `
import { startServer } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
const forever = (signal) => new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
const server = await startServer({
  listen: { kind: "unix", path: process.env.SOCKET_PATH },
  serviceNames: [],
  closeGraceMs: 200,
  routes: (router) =>
    router.service(SessionService, {
      getStatus: async (_req, ctx) => {
        if (ctx.requestHeader.get("x-hold")) {
          process.stdout.write("held\\n");
          await forever(ctx.signal);
        }
        return { name: String(process.pid) };
      },
      async *sendMessages(requests) {
        // Echoes each request's correlation id; prints a line once the first has been answered.
        let answered = 0;
        for await (const request of requests) {
          yield { correlationId: request.correlationId };
          if (++answered === 1) process.stdout.write("echoing\\n");
        }
      },
      async *subscribe(req, ctx) {
        if (req.afterCursor !== 99n) yield { cursor: 1n };
        process.stdout.write("streaming\\n");
        await forever(ctx.signal);
      },
    }),
});
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
process.stdout.write("ready\\n");
`;

class ServerProcess {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiters: (() => void)[] = [];
  readonly exited: Promise<void>;

  constructor(socketPath: string) {
    this.#child = spawn(process.execPath, ["--input-type=module", "-e", SERVER], {
      cwd: PACKAGE_DIR,
      env: { ...process.env, SOCKET_PATH: socketPath },
      stdio: ["ignore", "pipe", "inherit"],
    });
    this.exited = new Promise((resolve) => this.#child.once("exit", () => resolve()));
    let partial = "";
    this.#child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      this.#lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  get pid(): string {
    return String(this.#child.pid);
  }

  /** Resolves once the child has printed `line` `count` times in all. */
  async printed(line: string, count = 1): Promise<void> {
    while (this.#lines.filter((l) => l === line).length < count) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  signal(name: NodeJS.Signals): void {
    this.#child.kill(name);
  }

  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.exited;
  }
}

const dirs: string[] = [];
const children: ServerProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.signal("SIGCONT");
    await child.kill();
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startChild(socketPath: string): Promise<ServerProcess> {
  const child = new ServerProcess(socketPath);
  children.push(child);
  await Promise.race([child.printed("ready"), child.exited.then(() => Promise.reject(new Error("server child exited before ready")))]);
  return child;
}

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "jarvis-restart-"));
  dirs.push(dir);
  return join(dir, "s.sock");
}

/** How a call ended: "ok", or the ConnectError's code name. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return error instanceof ConnectError ? Code[error.code] : `not a ConnectError: ${String(error)}`;
  }
}

/** Reads a stream to its end: "done" (ended as complete) or the code it failed with. */
async function drain(stream: AsyncIterable<unknown>, onMessage: () => void = () => {}, onValue: (value: unknown) => void = () => {}): Promise<string> {
  try {
    for await (const value of stream) {
      onMessage();
      onValue(value);
    }
    return "done";
  } catch (error) {
    return error instanceof ConnectError ? Code[error.code] : `not a ConnectError: ${String(error)}`;
  }
}

type SendRequest = Partial<Pick<SendMessagesRequest, "correlationId">>;

/**
 * A bidi call's requests, as the session's Link feeds its network: a queue the caller pushes
 * to. `released` resolves once the call has let go of them (its writer returned the iterator).
 */
function requestQueue(...first: SendRequest[]): { queue: AsyncQueue<SendRequest>; requests: AsyncIterable<SendRequest>; released: Promise<void> } {
  const queue = new AsyncQueue<SendRequest>();
  for (const request of first) queue.push(request);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  async function* requests(): AsyncGenerator<SendRequest> {
    try {
      yield* queue;
    } finally {
      release();
    }
  }
  return { queue, requests: requests(), released };
}

/** Reads a bidi call's answers (their correlation ids) to its end, as drain() does. */
function drainAnswers(stream: AsyncIterable<{ correlationId: string }>, answers: string[]): Promise<string> {
  return drain(stream, undefined, (answer) => answers.push((answer as { correlationId: string }).correlationId));
}

/** How a call may end when its server dies: as a failure, never "ok"/"done", never a hang. */
const FAILED = /^(Unavailable|Internal|Aborted|Canceled)$/;

describe("when the server process dies under a client", () => {
  // leanBidi: the session's Link to its network takes the lean bidi path too.
  const makeTransport = (path: string) => createIpcTransport({ kind: "unix", path }, { leanBidi: true });
  it("a unary call in flight fails, and the next call reaches the restarted server", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    expect((await client.getStatus({})).name).toBe(first.pid);
    const held = outcome(client.getStatus({}, { headers: { "x-hold": "1" } }));
    await first.printed("held");
    await first.kill();
    expect(await held).toMatch(FAILED);
    const second = await startChild(path);
    expect((await client.getStatus({})).name).toBe(second.pid);
  });

  it("an open server stream fails (not ends as complete), and a new one reaches the restarted server", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    let gotFirst!: () => void;
    const firstMessage = new Promise<void>((resolve) => (gotFirst = resolve));
    const ended = drain(client.subscribe({}), () => gotFirst());
    await firstMessage;
    await first.kill();
    expect(await ended).toMatch(FAILED);
    const second = await startChild(path);
    const stop = new AbortController();
    const again = client.subscribe({}, { signal: stop.signal })[Symbol.asyncIterator]();
    expect((await again.next()).value).toMatchObject({ cursor: 1n });
    stop.abort();
    expect((await client.getStatus({})).name).toBe(second.pid);
  });

  it("a server stream still waiting for its response header fails when the server dies", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    const ended = drain(client.subscribe({ afterCursor: 99n }));
    await first.printed("streaming");
    await first.kill();
    expect(await ended).toMatch(FAILED);
  });

  it("calls while the server is down fail as UNAVAILABLE, and the first after its restart succeeds", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    await client.getStatus({});
    await first.kill();
    // The socket file stays behind after kill -9: connect is refused, not "no such file".
    expect(await outcome(client.getStatus({}))).toBe("Unavailable");
    expect(await drain(client.subscribe({}))).toBe("Unavailable");
    const second = await startChild(path);
    expect((await client.getStatus({})).name).toBe(second.pid);
  });

  it("a burst of calls racing the kill all settle, and the transport then reaches the restarted server", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    await client.getStatus({});
    const burst = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? drain(client.subscribe({})) : outcome(client.getStatus({}))));
    await first.kill();
    const outcomes = await Promise.all(burst);
    for (const o of outcomes) expect(o).toMatch(/^(ok|done|Unavailable|Internal|Aborted|Canceled)$/);
    const second = await startChild(path);
    expect((await client.getStatus({})).name).toBe(second.pid);
  });

  it("a stopped (SIGSTOP) server: calls with a deadline end at it, and calls go through once it continues", async () => {
    const path = socketPath();
    const server = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    await client.getStatus({});
    server.signal("SIGSTOP");
    expect(await outcome(client.getStatus({}, { timeoutMs: 300 }))).toBe("DeadlineExceeded");
    expect(await drain(client.subscribe({}, { timeoutMs: 300 }))).toBe("DeadlineExceeded");
    server.signal("SIGCONT");
    expect((await client.getStatus({})).name).toBe(server.pid);
  });

  it("a graceful close (GOAWAY) ends an open stream, and the next call reaches the restarted server", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    const ended = drain(client.subscribe({}));
    await first.printed("streaming");
    first.signal("SIGTERM");
    await first.exited;
    // The handler ends when the server's close aborts it: the stream completes with a status.
    expect(await ended).toMatch(/^(done|Unavailable|Internal|Aborted|Canceled)$/);
    const second = await startChild(path);
    expect((await client.getStatus({})).name).toBe(second.pid);
  });

  it("an open bidi stream fails (not ends as complete), lets go of its requests, and a new one reaches the restarted server", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    const { queue, requests, released } = requestQueue({ correlationId: "1" });
    const answers = client.sendMessages(requests)[Symbol.asyncIterator]();
    expect((await answers.next()).value).toMatchObject({ correlationId: "1" });
    await first.kill();
    expect(await drain({ [Symbol.asyncIterator]: () => answers })).toMatch(FAILED);
    // A request pushed after the death is not written anywhere: the call's writer sees it is
    // over and returns the iterator (the Link's queue is not held, nor pulled for ever).
    queue.push({ correlationId: "2" });
    await released;
    const second = await startChild(path);
    const again = requestQueue({ correlationId: "3" }, { correlationId: "4" });
    const more: string[] = [];
    const done = drainAnswers(client.sendMessages(again.requests), more);
    await second.printed("echoing");
    again.queue.end();
    expect(await done).toBe("done");
    expect(more).toEqual(["3", "4"]);
  });

  it("a bidi call while the server is down fails as UNAVAILABLE", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    await client.getStatus({});
    await first.kill();
    expect(await drainAnswers(client.sendMessages(requestQueue({ correlationId: "1" }).requests), [])).toBe("Unavailable");
  });

  it("a graceful close ends an open bidi stream its server's handler still reads (UNAVAILABLE after the grace), and the next one reaches the restarted server", async () => {
    const path = socketPath();
    const first = await startChild(path);
    const client = createClient(SessionService, makeTransport(path));
    const { queue, requests } = requestQueue({ correlationId: "1" });
    const ended = drainAnswers(client.sendMessages(requests), []);
    await first.printed("echoing");
    // The handler waits for more requests and never looks at its signal: only the server's
    // close can end the call (grpc-js's forceShutdown alone did not, and the process never exited).
    first.signal("SIGTERM");
    await first.exited;
    expect(await ended).toBe("Unavailable");
    queue.end();
    const second = await startChild(path);
    const again = requestQueue({ correlationId: "5" });
    const answers: string[] = [];
    const done = drainAnswers(client.sendMessages(again.requests), answers);
    await second.printed("echoing");
    again.queue.end();
    expect(await done).toBe("done");
    expect(answers).toEqual(["5"]);
  });
});
