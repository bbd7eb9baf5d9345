import { Code, ConnectError } from "@connectrpc/connect";

/** A user error: one line on stderr, exit code 1 (design §7). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Turns anything thrown into the one line a person sees. */
export function describeError(error: unknown): string {
  if (error instanceof ConnectError) {
    if (error.code === Code.Unavailable && /ECONNREFUSED|ENOENT|connect/i.test(error.rawMessage)) {
      return "daemon not running: start it with `jarvis up`";
    }
    return error.rawMessage.split("\n")[0] ?? "request failed";
  }
  if (error instanceof Error) return error.message.split("\n")[0] ?? "failed";
  return String(error);
}
