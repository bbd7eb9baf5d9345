/** Noise spec §3: every Noise message (handshake or transport) is at most 65535 bytes. */
export const MAX_MESSAGE_LENGTH = 65535;

/** ChaChaPoly appends a 16-byte Poly1305 tag to every ciphertext. */
export const TAG_LENGTH = 16;

/** The largest plaintext that still fits one transport message once the tag is added. */
export const MAX_TRANSPORT_PLAINTEXT = MAX_MESSAGE_LENGTH - TAG_LENGTH;
