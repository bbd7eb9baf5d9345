/** Constants of the peer protocol (docs/protocol.md): both ends must agree on these. */

/** Mixed into the Noise handshake: both sides must agree on it, or the handshake fails. */
export const PROLOGUE = Buffer.from("jarvis-peer/1 Noise_XX_25519_ChaChaPoly_BLAKE2b", "utf8");

/** XX handshake messages are small; anything bigger is garbage and is dropped early. */
export const MAX_HANDSHAKE_FRAME = 1024;

/** Hard cap on one reassembled application payload (one serialized Envelope). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
