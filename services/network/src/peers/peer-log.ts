import type { Logger } from "@jarvis/core";

/**
 * Log policy of the network service (issue 15): at info level and above no line names a peer
 * (uid, key or address) for a channel event, because those lines together, with their times,
 * would be the person's contact graph in clear. Info keeps the event, its code and direction.
 * At debug the same events also name the peer: debug logs record whom the node talks to and
 * when, so enable debug only to diagnose, and treat such logs as private.
 */
export function logPeerEvent(log: Logger, msg: string, peer: string, fields: object = {}): void {
  log.info(fields, msg);
  log.debug({ ...fields, peer }, msg);
}
