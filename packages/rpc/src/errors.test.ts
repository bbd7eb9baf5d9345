import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  CorruptStoreError,
  FailedPreconditionError,
  InvalidArgumentError,
  JarvisError,
  LockedError,
  NotFoundError,
  ResourceExhaustedError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
  WrongPasswordError,
  type ErrorKind,
} from "@jarvis/core";
import { ERROR_CODE_HEADER, errorCodeOf, toConnectError } from "./errors.js";

/** The documented mapping: each ErrorKind is the kebab-case name of its gRPC status. */
const EXPECTED: Record<ErrorKind, Code> = {
  "invalid-argument": Code.InvalidArgument,
  "not-found": Code.NotFound,
  "already-exists": Code.AlreadyExists,
  "failed-precondition": Code.FailedPrecondition,
  "permission-denied": Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  "resource-exhausted": Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  "deadline-exceeded": Code.DeadlineExceeded,
  aborted: Code.Aborted,
  internal: Code.Internal,
};

describe("toConnectError", () => {
  for (const [kind, code] of Object.entries(EXPECTED) as [ErrorKind, Code][]) {
    it(`maps kind ${kind} to ${Code[code]}, keeping the message and the stable code`, () => {
      const mapped = toConnectError(new JarvisError(kind, `some-${kind}`, `a ${kind} happened`));
      expect(mapped.code).toBe(code);
      expect(mapped.rawMessage).toBe(`a ${kind} happened`);
      expect(mapped.metadata.get(ERROR_CODE_HEADER)).toBe(`some-${kind}`);
      expect(errorCodeOf(mapped)).toBe(`some-${kind}`);
      // Kebab-case kind ↔ the gRPC name, so the table cannot drift from the names.
      expect(Code[code].replace(/[A-Z]/g, (c, i: number) => (i ? "-" : "") + c.toLowerCase())).toBe(kind);
    });
  }

  it("maps the concrete error classes by their kind", () => {
    const cases: [JarvisError, Code, string][] = [
      [new InvalidArgumentError("bad"), Code.InvalidArgument, "invalid-argument"],
      [new NotFoundError("gone", "unknown-contact"), Code.NotFound, "unknown-contact"],
      [new AlreadyExistsError("dup"), Code.AlreadyExists, "already-exists"],
      [new FailedPreconditionError("no"), Code.FailedPrecondition, "failed-precondition"],
      [new LockedError(), Code.FailedPrecondition, "locked"],
      [new WrongPasswordError(), Code.PermissionDenied, "wrong-password"],
      [new UnauthenticatedError(), Code.Unauthenticated, "unauthenticated"],
      [new ResourceExhaustedError("full"), Code.ResourceExhausted, "resource-exhausted"],
      [new UnavailableError("down"), Code.Unavailable, "unavailable"],
      [new TimeoutError("slow"), Code.DeadlineExceeded, "timeout"],
      [new CorruptStoreError("broken"), Code.FailedPrecondition, "corrupt-store"],
    ];
    for (const [error, code, stable] of cases) {
      const mapped = toConnectError(error);
      expect([error.name, mapped.code, errorCodeOf(mapped)]).toEqual([error.name, code, stable]);
    }
  });

  it("hides the details of unexpected errors behind INTERNAL", () => {
    const mapped = toConnectError(new Error("secret path /home/alice/store.db"));
    expect(mapped.code).toBe(Code.Internal);
    expect(mapped.rawMessage).toBe("internal error");
    expect(errorCodeOf(mapped)).toBeUndefined();
    expect(toConnectError("a string").code).toBe(Code.Internal);
  });

  it("passes a ConnectError through unchanged", () => {
    const original = new ConnectError("cancelled", Code.Canceled);
    expect(toConnectError(original)).toBe(original);
    expect(errorCodeOf(new Error("plain"))).toBeUndefined();
  });
});
