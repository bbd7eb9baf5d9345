import { EventEmitter } from "node:events";
import { Code, ConnectError } from "@connectrpc/connect";
import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { CallContext, LiveCalls, type ServerSurfaceCall } from "./call-context.js";

// The handler context's signal is made only when a handler asks for it (most unary calls never
// do); whenever it is asked for, it must say the same as if it had existed from the start.

/** What grpc-js does at a call's end (client cancel, deadline, or its own end): flag, then emit. */
class FakeCall extends EventEmitter implements ServerSurfaceCall {
  readonly metadata = new Metadata();
  cancelled = false;
  getPeer = () => "test";
  getDeadline = () => Infinity;
  sendMetadata = () => undefined;
  end(): void {
    this.cancelled = true;
    this.emit("cancelled", "cancelled");
  }
}

const method = SessionService.method.getStatus;

describe("CallContext", () => {
  it("costs a call that never asks for its signal no listener and no controller", () => {
    const call = new FakeCall();
    const live = new LiveCalls();
    new CallContext(method, call, live);
    expect(call.listenerCount("cancelled")).toBe(0);
    call.end();
    live.abortAll(new Error("shutdown")); // nothing registered, nothing to abort
  });

  it("aborts a signal asked for during the call when the call ends", () => {
    const call = new FakeCall();
    const ctx = new CallContext(method, call, new LiveCalls());
    const signal = ctx.signal;
    expect(signal.aborted).toBe(false);
    expect(ctx.signal).toBe(signal); // one signal per call
    call.end();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ConnectError);
    expect((signal.reason as ConnectError).code).toBe(Code.Canceled);
  });

  it("hands out an already aborted signal once the call has ended", () => {
    const call = new FakeCall();
    const ctx = new CallContext(method, call, new LiveCalls());
    call.end();
    expect(ctx.signal.aborted).toBe(true);
    expect(call.listenerCount("cancelled")).toBe(0);
  });

  it("aborts the signal on server shutdown, whether asked for before or after it", () => {
    const live = new LiveCalls();
    const before = new CallContext(method, new FakeCall(), live).signal;
    const late = new CallContext(method, new FakeCall(), live);
    const reason = new Error("shutdown");
    live.abortAll(reason);
    expect(before.aborted).toBe(true);
    expect(before.reason).toBe(reason);
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
  });
});
