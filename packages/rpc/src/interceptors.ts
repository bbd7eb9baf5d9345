import { timingSafeEqual } from "node:crypto";
import type { Interceptor, StreamResponse } from "@connectrpc/connect";
import { UnauthenticatedError } from "@jarvis/core";
import { toConnectError } from "./errors.js";

export interface RpcLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Maps domain errors (thrown by unary handlers or mid-stream) to gRPC statuses. */
export function errorMappingInterceptor(logger?: RpcLogger): Interceptor {
  const map = (error: unknown, method: string) => {
    const mapped = toConnectError(error);
    if (mapped.code === 13) logger?.error({ method, err: error }, "internal error in handler");
    return mapped;
  };
  return (next) => async (req) => {
    const method = req.method.name;
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStream(res as StreamResponse, (e) => map(e, method)) } as typeof res;
    } catch (error) {
      throw map(error, method);
    }
  };
}

async function* mapStream(res: StreamResponse, map: (e: unknown) => Error): AsyncIterable<unknown> {
  try {
    yield* res.message as AsyncIterable<unknown>;
  } catch (error) {
    throw map(error);
  }
}

/**
 * Requires `authorization: Bearer <token>` on every call (TCP mode, design §6). Compared in
 * constant time; a missing or wrong token gets UNAUTHENTICATED before any handler runs, so an
 * unauthenticated caller never sees an event. `openMethods` ("pkg.Service/Method") are exempt:
 * only the server's proof of knowing the token (Authenticate) belongs there.
 */
export function bearerTokenInterceptor(token: string, openMethods: readonly string[] = []): Interceptor {
  const expected = Buffer.from(`Bearer ${token}`);
  const open = new Set(openMethods);
  return (next) => async (req) => {
    if (open.has(`${req.method.parent.typeName}/${req.method.name}`)) return next(req);
    const given = Buffer.from(req.header.get("authorization") ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw toConnectError(new UnauthenticatedError());
    }
    return next(req);
  };
}

/** Adds the bearer token to outgoing calls. */
export function bearerTokenClientInterceptor(token: string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
