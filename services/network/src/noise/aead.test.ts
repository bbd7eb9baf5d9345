import { createCipheriv, randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { aeadDecrypt, aeadEncrypt, SODIUM_BELOW_BYTES } from "./aead.js";

/** node:crypto's ChaCha20-Poly1305 called directly, as the reference for both code paths. */
function reference(key: Buffer, counter: bigint, ad: Buffer, plaintext: Buffer): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(counter, 4);
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([body, cipher.getAuthTag()]);
}

// Either side of the libsodium / node:crypto split, and the Noise maximum.
const SIZES = [0, 1, 100, SODIUM_BELOW_BYTES - 1, SODIUM_BELOW_BYTES, 65_519];

describe("aead", () => {
  it("seals exactly as RFC 8439 ChaCha20-Poly1305 does, on both sides of the library split", () => {
    for (const size of SIZES) {
      const [key, ad, plaintext] = [randomBytes(32), randomBytes(64), randomBytes(size)];
      const counter = 2n ** 40n + 7n;
      const sealed = aeadEncrypt(key, counter, ad, plaintext);
      expect(sealed).toEqual(reference(key, counter, ad, plaintext));
      expect(aeadDecrypt(key, counter, ad, sealed)).toEqual(plaintext);
    }
  });

  it("refuses a tampered body, tag, ad, nonce or key on both sides of the split, leaving the input alone", () => {
    for (const size of SIZES) {
      const [key, ad, plaintext] = [randomBytes(32), randomBytes(16), randomBytes(size)];
      const sealed = aeadEncrypt(key, 5n, ad, plaintext);
      const copy = Buffer.from(sealed);
      for (const index of size > 0 ? [0, sealed.length - 1] : [sealed.length - 1]) {
        const tampered = Buffer.from(sealed);
        tampered[index] = (tampered[index] as number) ^ 1;
        expect(aeadDecrypt(key, 5n, ad, tampered)).toBeUndefined();
      }
      expect(aeadDecrypt(key, 6n, ad, sealed)).toBeUndefined();
      expect(aeadDecrypt(key, 5n, randomBytes(16), sealed)).toBeUndefined();
      expect(aeadDecrypt(randomBytes(32), 5n, ad, sealed)).toBeUndefined();
      expect(aeadDecrypt(key, 5n, ad, sealed.subarray(0, 15))).toBeUndefined();
      expect(sealed).toEqual(copy);
    }
  });
});
