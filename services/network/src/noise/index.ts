export { CipherState } from "./cipher-state.js";
export { NoiseError } from "./errors.js";
export type { NoiseErrorCode } from "./errors.js";
export { PROTOCOL_NAME, XXHandshake } from "./handshake.js";
export type { HandshakeOptions } from "./handshake.js";
export { dh, DH_LENGTH, generateKeyPair, keyPairFromPrivateKey } from "./keys.js";
export type { KeyPair } from "./keys.js";
export { MAX_MESSAGE_LENGTH, MAX_TRANSPORT_PLAINTEXT, TAG_LENGTH } from "./limits.js";
