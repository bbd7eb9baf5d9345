import type { Clock } from "@jarvis/core";
import type { SecureChannel } from "../channel/secure-channel.js";
import { GOODBYE_LINGER_MS } from "../constants.js";
import { ChannelClosedError } from "../errors.js";

/**
 * Closes a channel on purpose: a Goodbye control chunk, then a half-close so that it (and
 * everything written before it) still leaves. The peer then closes its side, and that is our
 * close too, with our reason rather than "closed by peer". A peer that never answers gets
 * GOODBYE_LINGER_MS. The reason sent is the bare code, never anything personal.
 */
export function sayGoodbye(channel: SecureChannel, clock: Clock, reason: string, code: "goodbye" | "disconnect-requested"): void {
  const closed = new ChannelClosedError(reason, code);
  if (!channel.closed) channel.sendControl({ kind: "goodbye", reason: code });
  channel.framed.end();
  channel.framed.onEnd(() => channel.close(closed));
  const timer = clock.setTimeout(() => channel.close(closed), GOODBYE_LINGER_MS);
  channel.framed.onClose(() => timer.cancel());
}
