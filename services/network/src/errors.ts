import { JarvisError } from "@jarvis/core";

/** Peer-channel errors (design §4). Each has a stable code used in stats, events and logs. */
export class HandshakeError extends JarvisError {
  constructor(message: string, code = "handshake-failed", options?: { cause?: unknown }) {
    super("unavailable", code, message, options);
  }
}

export class PeerRejectedError extends JarvisError {
  constructor(message: string, code = "peer-rejected") {
    super("permission-denied", code, message);
  }
}

export class ChannelClosedError extends JarvisError {
  constructor(message: string, code = "channel-closed", options?: { cause?: unknown }) {
    super("unavailable", code, message, options);
  }
}

export class ProtocolError extends JarvisError {
  constructor(message: string, code = "protocol-error", options?: { cause?: unknown }) {
    super("unavailable", code, message, options);
  }
}

export class NotConnectedError extends JarvisError {
  constructor(message = "no channel to that peer") {
    super("unavailable", "not-connected", message);
  }
}

export class PayloadTooLargeError extends JarvisError {
  constructor(message: string) {
    super("invalid-argument", "payload-too-large", message);
  }
}

/** A failure reported by the operating system for a peer socket (refused, reset, unreachable, …). */
export class SocketError extends JarvisError {
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super("unavailable", code, message, options);
  }
}

/** Node system error codes we name explicitly; any other becomes "socket-error". */
const SOCKET_ERROR_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection-refused",
  ECONNRESET: "connection-reset",
  ECONNABORTED: "connection-aborted",
  EPIPE: "connection-reset",
  ETIMEDOUT: "connection-timeout",
  EHOSTUNREACH: "host-unreachable",
  ENETUNREACH: "network-unreachable",
  EADDRNOTAVAIL: "address-unavailable",
  ENOTFOUND: "host-not-found",
  EAI_AGAIN: "host-not-found",
};

/**
 * Translates what a socket emits into a typed error, once, at the socket edge: nothing further
 * in inspects error objects it did not create. The message keeps the system code for people.
 */
export function socketError(error: Error): JarvisError {
  if (error instanceof JarvisError) return error;
  const systemCode = (error as NodeJS.ErrnoException).code;
  const code = (systemCode !== undefined && SOCKET_ERROR_CODES[systemCode]) || "socket-error";
  return new SocketError(error.message, code, { cause: error });
}

/** The stable code of an error this service raised; anything else is a bug and reads "internal". */
export function errorCode(error: unknown): string {
  return error instanceof JarvisError ? error.code : "internal";
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
