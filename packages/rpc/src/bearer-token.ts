import { timingSafeEqual } from "node:crypto";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Metadata } from "@grpc/grpc-js";

/**
 * Requires `authorization: Bearer <token>` on every call (TCP mode, design §6). Compared in
 * constant time; the server answers a missing or wrong token with UNAUTHENTICATED before any
 * handler runs, so an unauthenticated caller never sees an event. `openMethods`
 * ("pkg.Service/Method") are exempt: only the server's proof of knowing the token
 * (Authenticate) belongs there.
 */
export function bearerTokenCheck(token: string, openMethods: readonly string[] = []): (method: DescMethod, metadata: Metadata) => boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const open = new Set(openMethods);
  return (method, metadata) => {
    if (open.has(`${method.parent.typeName}/${method.name}`)) return true;
    const values = metadata.get("authorization");
    // Exactly one value: a second authorization header is not a way around the first.
    if (values.length !== 1 || typeof values[0] !== "string") return false;
    const given = Buffer.from(values[0]);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
