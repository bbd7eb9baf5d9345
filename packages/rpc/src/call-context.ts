import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import type { Deadline, Metadata } from "@grpc/grpc-js";
import { headersOf, metadataOf } from "./status-details.js";

/** What every kind of grpc-js server call has (its metadata, peer, deadline, "cancelled" event). */
export interface ServerSurfaceCall {
  readonly metadata: Metadata;
  /** Set by grpc-js before it emits "cancelled". */
  readonly cancelled: boolean;
  getPeer(): string;
  getDeadline(): Deadline;
  sendMetadata(metadata: Metadata): void;
  once(event: "cancelled", listener: () => void): unknown;
}

/**
 * The calls in flight on one server, so that close() can abort every handler's signal at once
 * (`RunningServer.shutdownSignal` semantics: long-lived handlers end on it). A set, not an
 * abort listener per call on the shutdown signal: nothing to leak, nothing to remove.
 */
export class LiveCalls {
  readonly #controllers = new Set<AbortController>();
  /** How to end each streaming call still open (forceAll). */
  readonly #streams = new Set<() => void>();
  #shutdown: unknown;

  add(controller: AbortController): void {
    if (this.#shutdown !== undefined) controller.abort(this.#shutdown);
    else this.#controllers.add(controller);
  }

  delete(controller: AbortController): void {
    this.#controllers.delete(controller);
  }

  abortAll(reason: unknown): void {
    this.#shutdown = reason;
    for (const controller of this.#controllers) controller.abort(reason);
    this.#controllers.clear();
  }

  addStream(end: () => void): void {
    this.#streams.add(end);
  }

  deleteStream(end: () => void): void {
    this.#streams.delete(end);
  }

  /**
   * Ends every streaming call still open, once the server's grace period is over. grpc-js's
   * forceShutdown() destroys only the connections channelz tracks, and channelz is off here
   * (server.ts), so a stream whose handler waits on its client — an idle SendMessages, a Link
   * whose session sends nothing — would hold the server's close until its process's shutdown
   * deadline (5 s in the services), or for ever where nothing else ends the process.
   */
  endAllStreams(): void {
    const streams = [...this.#streams];
    this.#streams.clear();
    for (const end of streams) end();
  }
}

/**
 * connect's HandlerContext over a grpc-js call: what the handlers were written against. Its
 * signal aborts on client cancel, deadline, the end of the call and server shutdown. Headers
 * and the signal are built only when a handler asks for them: most unary calls never do, and
 * the per-call cost of the server stack is what this module exists to cut (an AbortController
 * aborted with a ConnectError at every call's end cost a unary SendMessage ~20 µs of CPU).
 */
export class CallContext implements HandlerContext {
  readonly requestMethod = "POST";
  readonly protocolName = "grpc";
  #controller?: AbortController;
  readonly #call: ServerSurfaceCall;
  readonly #live: LiveCalls;
  #requestHeader?: Headers;
  #responseHeader?: Headers;
  #responseTrailer?: Headers;
  #values?: ContextValues;

  constructor(
    readonly method: DescMethod,
    call: ServerSurfaceCall,
    live: LiveCalls,
  ) {
    this.#call = call;
    this.#live = live;
  }

  get service(): DescService {
    return this.method.parent;
  }
  get url(): string {
    return `/${this.method.parent.typeName}/${this.method.name}`;
  }
  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = (this.#controller = new AbortController());
    if (this.#call.cancelled) {
      this.#abort(controller);
    } else {
      this.#live.add(controller);
      // grpc-js reports a client cancel, a deadline and the call's own end all as 'cancelled'.
      this.#call.once("cancelled", () => this.end());
    }
    return controller.signal;
  }
  get peer(): { addr: string } {
    return { addr: this.#call.getPeer() };
  }
  get requestHeader(): Headers {
    return (this.#requestHeader ??= headersOf(this.#call.metadata));
  }
  get responseHeader(): Headers {
    return (this.#responseHeader ??= new Headers());
  }
  get responseTrailer(): Headers {
    return (this.#responseTrailer ??= new Headers());
  }
  get values(): ContextValues {
    return (this.#values ??= createContextValues());
  }

  readonly timeoutMs = (): number | undefined => {
    const deadline = this.#call.getDeadline();
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    return Number.isFinite(at) ? at - Date.now() : undefined;
  };

  /** The handler's response headers, once, if it set any (before the first message). */
  takeResponseHeader(): Metadata | undefined {
    const headers = this.#responseHeader;
    this.#responseHeader = undefined;
    return headers && hasEntries(headers) ? metadataOf(headers) : undefined;
  }

  /** The trailers the handler set, if any (a failure's status is added to them). */
  get trailerIfSet(): Headers | undefined {
    return this.#responseTrailer && hasEntries(this.#responseTrailer) ? this.#responseTrailer : undefined;
  }

  /** The call is over: a signal handed out aborts (one asked for later is born aborted). */
  end(): void {
    const controller = this.#controller;
    if (!controller) return;
    this.#live.delete(controller);
    this.#abort(controller);
  }

  #abort(controller: AbortController): void {
    if (!controller.signal.aborted) controller.abort(new ConnectError("the call ended", Code.Canceled));
  }
}

function hasEntries(headers: Headers): boolean {
  for (const _ of headers.keys()) return true;
  return false;
}
