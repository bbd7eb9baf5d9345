/**
 * Handshake patterns as token lists (Noise §7). The handshake engine walks
 * these, so the pattern text below is the single source of truth for what
 * each message contains.
 */
export type Token = "e" | "s" | "ee" | "es" | "se" | "ss";

export interface HandshakePattern {
  readonly name: string;
  /** Message i is sent by the initiator when i is even, by the responder when odd. */
  readonly messages: readonly (readonly Token[])[];
}

/**
 * XX:
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 * Mutual authentication with both static keys transmitted encrypted, and no
 * pre-knowledge of the peer's key needed (pre-message patterns are empty).
 */
export const XX_PATTERN: HandshakePattern = {
  name: "XX",
  messages: [["e"], ["e", "ee", "s", "es"], ["s", "se"]],
};
