import { JarvisError } from "@jarvis/core";

/** Peer-channel errors (design §4). Each has a stable code used in stats and logs. */
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

/** A stable code for any error, for stats and events. */
export function errorCode(error: unknown): string {
  if (error instanceof JarvisError) return error.code;
  if (error && typeof error === "object" && "code" in error && typeof error.code === "string") {
    return error.code.toLowerCase().replace(/_/g, "-");
  }
  return "unknown";
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
