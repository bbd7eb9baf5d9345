/** What the tie-break needs to know about a channel. */
export interface ChannelOrigin {
  /** True when we dialled it. */
  outbound: boolean;
  /** The peer's static public key. */
  remoteKey: Uint8Array;
}

/**
 * Simultaneous dials leave two channels to one peer; both ends must keep the same one without
 * talking about it. Rule (docs/protocol.md §6): keep the channel whose initiator has the lower
 * static public key (bytes compared); if the same side dialled both, the newer one wins (the
 * older is stale). Returns true when `incoming` should replace `existing`.
 */
export function newChannelWins(ownKey: Uint8Array, existing: ChannelOrigin, incoming: ChannelOrigin): boolean {
  const initiatorOf = (channel: ChannelOrigin) => Buffer.from(channel.outbound ? ownKey : channel.remoteKey);
  const existingInitiator = initiatorOf(existing);
  const incomingInitiator = initiatorOf(incoming);
  if (existingInitiator.equals(incomingInitiator)) return true;
  return Buffer.compare(incomingInitiator, existingInitiator) < 0;
}
