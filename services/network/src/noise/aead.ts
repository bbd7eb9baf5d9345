import { createCipheriv, createDecipheriv } from "node:crypto";

import { TAG_LENGTH } from "./limits.js";
import { sodium } from "./sodium.js";

/** ChaChaPoly key length. */
export const KEY_LENGTH = 32;

/**
 * Messages shorter than this are sealed and opened by libsodium, longer ones by node:crypto
 * (OpenSSL). Both compute the same RFC 8439 ChaCha20-Poly1305; they differ in cost. node:crypto
 * pays a fixed ~3 µs per message to set up a cipher object, which dominates a handshake message
 * or a 100-byte chat frame (libsodium: ~0.9 µs seal+open at 100 B against ~8 µs), while
 * OpenSSL's wider vector code wins on large frames (~1,050 against ~820 MB/s at 64 KiB). They
 * measured about even at 16 KiB on this machine (bench/crypto.js, noiseTransport16KiB).
 */
export const SODIUM_BELOW_BYTES = 16 * 1024;

/**
 * Noise §5 ChaChaPoly nonce: 32 bits of zeros followed by the 64-bit counter
 * in little-endian order (RFC 7539's 96-bit nonce layout). Written into one
 * reused buffer: both libraries copy or consume it within the call.
 */
const nonce = Buffer.alloc(12);
function formatNonce(counter: bigint): Buffer {
  nonce.writeBigUInt64LE(counter, 4);
  return nonce;
}

/** ENCRYPT(k, n, ad, plaintext): ciphertext ‖ 16-byte tag. */
export function aeadEncrypt(key: Uint8Array, counter: bigint, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  if (plaintext.length < SODIUM_BELOW_BYTES) {
    const sealed = Buffer.allocUnsafe(plaintext.length + TAG_LENGTH);
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(sealed, plaintext, ad, null, formatNonce(counter), key);
    return sealed;
  }
  const cipher = createCipheriv("chacha20-poly1305", key, formatNonce(counter), { authTagLength: TAG_LENGTH });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/**
 * DECRYPT(k, n, ad, ciphertext). Returns undefined on authentication failure
 * rather than throwing, so callers decide how to report it without catching
 * either library's generic error.
 */
export function aeadDecrypt(
  key: Uint8Array,
  counter: bigint,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Buffer | undefined {
  if (ciphertext.length < TAG_LENGTH) return undefined;
  const bodyLength = ciphertext.length - TAG_LENGTH;
  if (bodyLength < SODIUM_BELOW_BYTES) {
    const plaintext = Buffer.allocUnsafe(bodyLength);
    try {
      // libsodium checks the tag before it decrypts anything.
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plaintext, null, ciphertext, ad, formatNonce(counter), key);
    } catch {
      return undefined;
    }
    return plaintext;
  }
  const decipher = createDecipheriv("chacha20-poly1305", key, formatNonce(counter), { authTagLength: TAG_LENGTH });
  decipher.setAAD(ad, { plaintextLength: bodyLength });
  decipher.setAuthTag(ciphertext.subarray(bodyLength));
  const plaintext = decipher.update(ciphertext.subarray(0, bodyLength));
  try {
    decipher.final();
  } catch {
    // Never hand out unauthenticated plaintext.
    plaintext.fill(0);
    return undefined;
  }
  return plaintext;
}
