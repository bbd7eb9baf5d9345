import { Code, ConnectError } from "@connectrpc/connect";
import { sanitizeForTerminal } from "@jarvis/core";
import { errorCodeOf } from "@jarvis/rpc";

/** A user error: one line on stderr, exit code 1 (design §7). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * Turns anything thrown into the one line a person sees. Server messages can quote what a peer
 * chose (a contact's name in "already a contact", names in an ambiguity list), so the line goes
 * through the one sanitiser before it reaches the terminal.
 */
export function describeError(error: unknown): string {
  return sanitizeForTerminal(firstLine(error));
}

function firstLine(error: unknown): string {
  if (error instanceof ConnectError) {
    // UNAVAILABLE without a Jarvis error code never reached the service: the socket is gone.
    // (The service's own UNAVAILABLE, e.g. the network service down, carries its code.)
    if (error.code === Code.Unavailable && errorCodeOf(error) === undefined) {
      return "daemon not running: start it with `jarvis up`";
    }
    return error.rawMessage.split("\n")[0] ?? "request failed";
  }
  if (error instanceof Error) return error.message.split("\n")[0] ?? "failed";
  return String(error);
}
