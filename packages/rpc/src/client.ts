import { connect as netConnect } from "node:net";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { IpcAddress } from "./address.js";
import { bearerTokenClientInterceptor } from "./interceptors.js";

/** A gRPC (HTTP/2) transport to a local server over its Unix socket or loopback TCP. */
export function createIpcTransport(address: IpcAddress, options: { token?: string } = {}): Transport {
  const interceptors: Interceptor[] = [];
  if (options.token) interceptors.push(bearerTokenClientInterceptor(options.token));
  if (address.kind === "unix") {
    return createGrpcTransport({
      baseUrl: "http://localhost",
      interceptors,
      nodeOptions: { createConnection: () => netConnect(address.path) },
    });
  }
  return createGrpcTransport({ baseUrl: `http://${address.host}:${address.port}`, interceptors });
}
