import { createRequire } from "node:module";

/**
 * The few libsodium (sodium-native) calls the handshake uses, typed here because the package
 * ships no types. Every function writes into its first argument and throws a plain Error when
 * libsodium returns a failure (for crypto_scalarmult: a low-order point, an all-zero result);
 * callers turn that into a NoiseError. sodium-native is a CommonJS addon, hence createRequire.
 */
export interface Sodium {
  randombytes_buf(output: Uint8Array): void;
  crypto_scalarmult_base(publicKey: Uint8Array, scalar: Uint8Array): void;
  crypto_scalarmult(shared: Uint8Array, scalar: Uint8Array, publicKey: Uint8Array): void;
  crypto_generichash(output: Uint8Array, input: Uint8Array): void;
  crypto_generichash_batch(output: Uint8Array, inputs: Uint8Array[]): void;
  crypto_aead_chacha20poly1305_ietf_encrypt(
    ciphertext: Uint8Array, plaintext: Uint8Array, ad: Uint8Array | null, nsec: null, nonce: Uint8Array, key: Uint8Array,
  ): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(
    plaintext: Uint8Array, nsec: null, ciphertext: Uint8Array, ad: Uint8Array | null, nonce: Uint8Array, key: Uint8Array,
  ): number;
  sodium_memzero(buffer: Uint8Array): void;
  sodium_is_zero(buffer: Uint8Array, length?: number): boolean;
}

export const sodium = createRequire(import.meta.url)("sodium-native") as Sodium;
