import type { Interceptor, StreamResponse } from "@connectrpc/connect";
import { toConnectError } from "./errors.js";

export interface RpcLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Maps domain errors (thrown by unary handlers or mid-stream) to gRPC statuses, for connect
 * routers served in memory (createRouterTransport in tests); startServer maps them itself.
 */
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

/** Adds the bearer token to outgoing calls. */
export function bearerTokenClientInterceptor(token: string): Interceptor {
  return (next) => async (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}
