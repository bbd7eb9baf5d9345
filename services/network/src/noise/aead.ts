import { createCipheriv, createDecipheriv } from "node:crypto";

import { TAG_LENGTH } from "./limits.js";

/** ChaChaPoly key length. */
export const KEY_LENGTH = 32;

/**
 * Noise §5 ChaChaPoly nonce: 32 bits of zeros followed by the 64-bit counter
 * in little-endian order (RFC 7539's 96-bit nonce layout). Written into one
 * reused buffer: createCipheriv copies the IV, so nothing keeps a reference.
 */
const nonce = Buffer.alloc(12);
function formatNonce(counter: bigint): Buffer {
  nonce.writeBigUInt64LE(counter, 4);
  return nonce;
}

/** ENCRYPT(k, n, ad, plaintext): ciphertext ‖ 16-byte tag. */
export function aeadEncrypt(key: Uint8Array, counter: bigint, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv("chacha20-poly1305", key, formatNonce(counter), { authTagLength: TAG_LENGTH });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  // An empty plaintext (most handshake payloads) seals to the tag alone: no body, no join.
  if (plaintext.length === 0) {
    cipher.final();
    return cipher.getAuthTag();
  }
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

/**
 * DECRYPT(k, n, ad, ciphertext). Returns undefined on authentication failure
 * rather than throwing, so callers decide how to report it without catching
 * OpenSSL's generic error.
 */
export function aeadDecrypt(
  key: Uint8Array,
  counter: bigint,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Buffer | undefined {
  if (ciphertext.length < TAG_LENGTH) return undefined;
  const bodyLength = ciphertext.length - TAG_LENGTH;
  const decipher = createDecipheriv("chacha20-poly1305", key, formatNonce(counter), { authTagLength: TAG_LENGTH });
  decipher.setAAD(ad, { plaintextLength: bodyLength });
  decipher.setAuthTag(ciphertext.subarray(bodyLength));
  const plaintext = bodyLength === 0 ? Buffer.alloc(0) : decipher.update(ciphertext.subarray(0, bodyLength));
  try {
    decipher.final();
  } catch {
    // Never hand out unauthenticated plaintext.
    plaintext.fill(0);
    return undefined;
  }
  return plaintext;
}
