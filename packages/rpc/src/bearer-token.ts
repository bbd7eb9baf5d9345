import { timingSafeEqual } from "node:crypto";
import { ServerInterceptingCall, type Metadata, type ServerInterceptor } from "@grpc/grpc-js";
import { UnauthenticatedError } from "@jarvis/core";
import { grpcStatusOf } from "./status-details.js";

/** Whether a call to `path` ("/pkg.Service/Method") with this metadata may proceed. */
export type AdmissionCheck = (path: string, metadata: Metadata) => boolean;

/**
 * Requires `authorization: Bearer <token>` on every call (TCP mode, design §6). Compared in
 * constant time. `openMethods` ("pkg.Service/Method") are exempt: only the server's proof of
 * knowing the token (Authenticate) belongs there.
 */
export function bearerTokenCheck(token: string, openMethods: readonly string[] = []): AdmissionCheck {
  const expected = Buffer.from(`Bearer ${token}`);
  const open = new Set(openMethods.map((method) => `/${method}`));
  return (path, metadata) => {
    if (open.has(path)) return true;
    const values = metadata.get("authorization");
    // Exactly one value: a second authorization header is not a way around the first.
    if (values.length !== 1 || typeof values[0] !== "string") return false;
    const given = Buffer.from(values[0]);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}

/**
 * Applies `admits` at the metadata stage, before grpc-js reads a byte of the request body: a
 * refused call is answered UNAUTHENTICATED (the same status, message and details the handlers
 * map an UnauthenticatedError to) and its metadata never reaches grpc-js's method handling, so
 * no read is started, no message is buffered or decoded, no stream object is made and no
 * handler runs. Once the status is sent, grpc-js discards whatever body frames still arrive.
 * So an unauthenticated TCP client cannot make the server parse what it sends.
 */
export function admissionInterceptor(admits: AdmissionCheck): ServerInterceptor {
  return (method, call) => {
    const intercepted: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            if (admits(method.path, metadata)) proceed(metadata);
            else intercepted.sendStatus(grpcStatusOf(new UnauthenticatedError()));
          },
        }),
    });
    return intercepted;
  };
}
