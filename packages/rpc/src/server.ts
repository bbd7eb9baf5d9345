import * as http2 from "node:http2";
import { chmodSync, existsSync, lstatSync, unlinkSync } from "node:fs";
import { connect as netConnect } from "node:net";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { FailedPreconditionError } from "@jarvis/core";
import type { IpcAddress } from "./address.js";
import { bearerTokenInterceptor, errorMappingInterceptor, type RpcLogger } from "./interceptors.js";
import { registerHealth, type Readiness } from "./health.js";
import { registerReflection } from "./reflection.js";

export interface ServerOptions {
  listen: IpcAddress;
  routes: (router: ConnectRouter) => void;
  /** Fully-qualified service names answered by grpc.health.v1. */
  serviceNames: string[];
  /** Per service: ready to do its job (health says NOT_SERVING otherwise). Default: always. */
  readiness?: Readiness;
  /** Required for TCP: every call must carry it. */
  token?: string;
  /** Calls answered without the token ("pkg.Service/Method"): a server's proof of identity. */
  openMethods?: readonly string[];
  logger?: RpcLogger;
  /** How long open streams get to finish on close before they are cut. */
  closeGraceMs?: number;
}

export interface RunningServer {
  /** The bound address (a real port when listening on port 0). */
  address: IpcAddress;
  /** Aborted when close() starts: long-lived handlers (Subscribe, Link) end on it. */
  shutdownSignal: AbortSignal;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { listen } = options;
  if (listen.kind === "tcp" && !options.token) {
    throw new FailedPreconditionError("a TCP IPC listener needs a bearer token");
  }
  const shutdown = new AbortController();
  const interceptors: Interceptor[] = [];
  if (options.token) interceptors.push(bearerTokenInterceptor(options.token, options.openMethods));
  interceptors.push(errorMappingInterceptor(options.logger));

  const handler = connectNodeAdapter({
    routes: (router) => {
      registerHealth(router, options.serviceNames, { readiness: options.readiness });
      options.routes(router);
      // Reflection describes what was registered above (and health/reflection themselves).
      registerReflection(router, [...new Set(router.handlers.map((h) => h.service))]);
    },
    interceptors,
    shutdownSignal: shutdown.signal,
  });
  const server = http2.createServer(handler);
  // Node's http2 server.close() waits for live sessions; we track and close them ourselves.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });

  if (listen.kind === "unix") await removeStaleSocket(listen.path);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (listen.kind === "unix") server.listen(listen.path, resolve);
    else server.listen(listen.port, listen.host, resolve);
  });
  let address: IpcAddress = listen;
  if (listen.kind === "unix") chmodSync(listen.path, 0o600);
  else address = { kind: "tcp", host: listen.host, port: (server.address() as AddressInfo).port };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      shutdown.abort();
      server.close(() => resolve());
      for (const session of sessions) session.close();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
      }, options.closeGraceMs ?? 1_000);
      timer.unref();
    });
    return closing;
  };
  return { address, shutdownSignal: shutdown.signal, close };
}

/** A socket file left by a crashed process is removed; a live one means another server runs. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new FailedPreconditionError(`${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const socket = netConnect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
  if (alive) throw new FailedPreconditionError(`another server is already listening on ${path}`, "already-running");
  unlinkSync(path);
}
