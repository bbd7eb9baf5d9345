import { chmodSync, existsSync, lstatSync, unlinkSync } from "node:fs";
import { connect as netConnect } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { FailedPreconditionError, formatHostPort } from "@jarvis/core";
import type { IpcAddress } from "./address.js";
import { admissionInterceptor, bearerTokenCheck } from "./bearer-token.js";
import { LiveCalls } from "./call-context.js";
import { grpcServiceOf } from "./grpc-js-handlers.js";
import { codecsByType, type MessageCodec } from "./message-codecs.js";
import type { RpcLogger } from "./interceptors.js";
import { registerHealth, type Readiness } from "./health.js";
import { registerReflection } from "./reflection.js";
import { ServiceRegistry } from "./service-registry.js";

export interface ServerOptions {
  listen: IpcAddress;
  /** Registers the services (connect's router shape; served by grpc-js, see service-registry.ts). */
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
  /** Hand-written encoders/decoders for hot message types, used in place of protobuf-es's. */
  codecs?: readonly MessageCodec[];
  /**
   * Response streams ("pkg.Service/Method") whose messages are small, with how many of them may
   * wait unwritten before the handler is paused (default: until grpc-js's own mark drains).
   */
  queuedResponses?: Readonly<Record<string, number>>;
}

export interface RunningServer {
  /** The bound address (a real port when listening on port 0). */
  address: IpcAddress;
  /** Aborted when close() starts: long-lived handlers (Subscribe, Link) end on it. */
  shutdownSignal: AbortSignal;
  close(): Promise<void>;
}

/**
 * grpc-js server options, all explicit. No message size cap either way (-1): ImportAccount
 * legitimately carries an archive of up to 512 MiB, and connect-node, which served before, had
 * none below the 4 GiB the gRPC length prefix allows (grpc-js would refuse requests over 4 MiB).
 * Channelz is off: it is per-call bookkeeping for an admin service we do not serve.
 */
const GRPC_SERVER_OPTIONS: grpc.ServerOptions = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
  "grpc.enable_channelz": 0,
};

/**
 * Serves the registered services with @grpc/grpc-js (chosen by measurement: docs/architecture.md,
 * "Server stack: measured, chosen"), plus grpc.health.v1 and server reflection.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { listen } = options;
  if (listen.kind === "tcp" && !options.token) {
    throw new FailedPreconditionError("a TCP IPC listener needs a bearer token");
  }
  const shutdown = new AbortController();
  const live = new LiveCalls();
  const registry = new ServiceRegistry();
  registerHealth(registry, options.serviceNames, { readiness: options.readiness });
  options.routes(registry);
  // Reflection describes what was registered above (and health/reflection themselves).
  registerReflection(registry, registry.services);

  // The token is checked on the call's metadata, before its body is read (bearer-token.ts).
  // Without a token (Unix socket: the file mode is the access control) there is no interceptor,
  // and no per-call cost for one.
  const interceptors = options.token ? [admissionInterceptor(bearerTokenCheck(options.token, options.openMethods))] : [];
  const server = new grpc.Server({ ...GRPC_SERVER_OPTIONS, interceptors });
  const codecs = codecsByType(options.codecs);
  for (const specs of registry.byService().values()) {
    const { definition, implementation } = grpcServiceOf(specs, { live, logger: options.logger, codecs, queuedResponses: options.queuedResponses ?? {} });
    server.addService(definition, implementation);
  }

  if (listen.kind === "unix") await removeStaleSocket(listen.path);
  const target = listen.kind === "unix" ? `unix:${listen.path}` : formatHostPort(listen);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  }).catch((error: unknown) => {
    server.forceShutdown();
    throw error;
  });
  let address: IpcAddress = listen;
  if (listen.kind === "unix") chmodSync(listen.path, 0o600);
  else address = { kind: "tcp", host: listen.host, port };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      shutdown.abort();
      live.abortAll(shutdown.signal.reason);
      // Refuse new calls and let open ones finish; after the grace, cut whatever is left.
      // Streams are ended by us first: grpc-js's forceShutdown alone leaves them open (call-context.ts).
      const timer = setTimeout(() => {
        live.endAllStreams();
        server.forceShutdown();
      }, options.closeGraceMs ?? 1_000);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
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
