import { InvalidArgumentError } from "./errors.js";
import { quoteUntrusted } from "./sanitize.js";

/** A peer address "host:port" (IPv6 hosts in brackets). Port 0 means "pick one" for listeners. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Addresses arrive from peers (Hello, cards, link codes) and end up in status output and logs,
 * so a host is only what DNS or an IP literal can be: ASCII letters, digits, ".", "-", "_"
 * (internationalised names in their xn-- form), or a bracketed IPv6 literal. Control
 * characters, escapes, bidi marks and spaces are refused, and the error quotes the input inert.
 */
export function parseHostPort(value: string, options: { allowZeroPort?: boolean } = {}): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535 || (port === 0 && !options.allowZeroPort)) {
    throw new InvalidArgumentError(`bad address ${quoteUntrusted(value)}: expected host:port`, "bad-address");
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where a node listens for peers unless told otherwise (design §4). Defined here only. */
export const DEFAULT_LISTEN_ADDRESS = "0.0.0.0:5000";
