import { createCipheriv, randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { CipherState } from "./cipher-state.js";
import { NoiseError } from "./errors.js";
import type { NoiseErrorCode } from "./errors.js";
import { MAX_MESSAGE_LENGTH, MAX_TRANSPORT_PLAINTEXT } from "./limits.js";
import { expectErrorCode } from "../../../../test/helpers/assertions.js";

const expectNoiseError = (action: () => unknown, code: NoiseErrorCode) => expectErrorCode(action, NoiseError, code);

const EMPTY = Buffer.alloc(0);
const MAX_NONCE = 2n ** 64n - 1n;

/** Independent reference: RFC 8439 ChaCha20-Poly1305 with the Noise nonce layout built by hand. */
function referenceEncrypt(key: Buffer, nonce: bigint, ad: Buffer, plaintext: Buffer): Buffer {
  const nonceBytes = Buffer.alloc(12);
  for (let i = 0; i < 8; i++) nonceBytes[4 + i] = Number((nonce >> BigInt(8 * i)) & 0xffn);
  const cipher = createCipheriv("chacha20-poly1305", key, nonceBytes, { authTagLength: 16 });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function pairOfCiphers(): { sender: CipherState; receiver: CipherState; key: Buffer } {
  const key = randomBytes(32);
  return { sender: new CipherState(key), receiver: new CipherState(key), key };
}

describe("CipherState", () => {
  it("passes data through unchanged and keeps the nonce when it has no key", () => {
    const cipher = new CipherState();
    expect(cipher.hasKey()).toBe(false);
    const data = Buffer.from("plain");
    expect(cipher.encryptWithAd(EMPTY, data)).toEqual(data);
    expect(cipher.decryptWithAd(EMPTY, data)).toEqual(data);
    expect(cipher.nonce).toBe(0n);
  });

  it("rejects keys that are not 32 bytes", () => {
    expectNoiseError(() => new CipherState(Buffer.alloc(31)), "bad-key");
    expectNoiseError(() => new CipherState(Buffer.alloc(33)), "bad-key");
  });

  it("encrypts exactly as ChaChaPoly with a 4-zero-byte + little-endian counter nonce", () => {
    const key = randomBytes(32);
    const ad = Buffer.from("associated");
    const plaintext = Buffer.from("noise nonce layout");
    const cipher = new CipherState(key);
    const nonce = 0x0102030405060708n;
    cipher.setNonce(nonce);
    expect(cipher.encryptWithAd(ad, plaintext)).toEqual(referenceEncrypt(key, nonce, ad, plaintext));
    expect(cipher.nonce).toBe(nonce + 1n);
  });

  it("round-trips and advances both nonces in step", () => {
    const { sender, receiver } = pairOfCiphers();
    for (let i = 0; i < 5; i++) {
      const plaintext = Buffer.from(`message ${i}`);
      const ciphertext = sender.encryptWithAd(EMPTY, plaintext);
      expect(ciphertext).toHaveLength(plaintext.length + 16);
      expect(receiver.decryptWithAd(EMPTY, ciphertext)).toEqual(plaintext);
    }
    expect(sender.nonce).toBe(5n);
    expect(receiver.nonce).toBe(5n);
  });

  it("rejects wrong associated data, flipped bytes and short input without advancing the nonce", () => {
    const { sender, receiver } = pairOfCiphers();
    const plaintext = Buffer.from("authenticated");
    const ciphertext = sender.encryptWithAd(Buffer.from("ad"), plaintext);
    expectNoiseError(() => receiver.decryptWithAd(Buffer.from("AD"), ciphertext), "decrypt-failed");
    for (let position = 0; position < ciphertext.length; position++) {
      const tampered = Buffer.from(ciphertext);
      tampered[position] = (tampered[position] ?? 0) ^ 0xff;
      expectNoiseError(() => receiver.decryptWithAd(Buffer.from("ad"), tampered), "decrypt-failed");
    }
    expectNoiseError(() => receiver.decryptWithAd(Buffer.from("ad"), ciphertext.subarray(0, 15)), "decrypt-failed");
    expect(receiver.nonce).toBe(0n);
    expect(receiver.decryptWithAd(Buffer.from("ad"), ciphertext)).toEqual(plaintext);
  });

  it("seals an empty plaintext to the reference tag alone, and refuses every flipped bit of it", () => {
    const { sender, receiver, key } = pairOfCiphers();
    const ad = Buffer.from("transcript hash");
    const tag = sender.encryptWithAd(ad, EMPTY);
    expect(tag).toEqual(referenceEncrypt(key, 0n, ad, EMPTY));
    expect(tag).toHaveLength(16);
    for (let bit = 0; bit < 128; bit++) {
      const forged = Buffer.from(tag);
      forged[bit >> 3] = (forged[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expectNoiseError(() => receiver.decryptWithAd(ad, forged), "decrypt-failed");
    }
    expect(receiver.nonce).toBe(0n);
    expectNoiseError(() => receiver.decryptWithAd(Buffer.from("other hash"), tag), "decrypt-failed");
    expect(receiver.decryptWithAd(ad, tag)).toEqual(EMPTY);
    expect(receiver.nonce).toBe(1n);
  });

  it("rejects a replayed message because the nonce has moved on", () => {
    const { sender, receiver } = pairOfCiphers();
    const ciphertext = sender.encryptWithAd(EMPTY, Buffer.from("once"));
    receiver.decryptWithAd(EMPTY, ciphertext);
    expectNoiseError(() => receiver.decryptWithAd(EMPTY, ciphertext), "decrypt-failed");
  });

  it("uses nonce 2^64-2 and then refuses, because 2^64-1 is reserved", () => {
    const { sender, receiver } = pairOfCiphers();
    sender.setNonce(MAX_NONCE - 1n);
    receiver.setNonce(MAX_NONCE - 1n);
    const last = sender.encryptWithAd(EMPTY, Buffer.from("last"));
    expect(receiver.decryptWithAd(EMPTY, last).toString()).toBe("last");
    expect(sender.nonce).toBe(MAX_NONCE);
    expectNoiseError(() => sender.encryptWithAd(EMPTY, Buffer.from("one too many")), "nonce-exhausted");
    expectNoiseError(() => receiver.decryptWithAd(EMPTY, last), "nonce-exhausted");
    expect(sender.nonce).toBe(MAX_NONCE);
  });

  it("refuses nonces outside the unsigned 64-bit range", () => {
    const cipher = new CipherState(randomBytes(32));
    expect(() => cipher.setNonce(-1n)).toThrow(RangeError);
    expect(() => cipher.setNonce(MAX_NONCE + 1n)).toThrow(RangeError);
  });

  it("rekeys to the first 32 bytes of ENCRYPT(k, 2^64-1, empty, zeros) and keeps the nonce", () => {
    const { sender, receiver, key } = pairOfCiphers();
    sender.encryptWithAd(EMPTY, Buffer.from("before"));
    sender.rekey();
    expect(sender.nonce).toBe(1n);

    const expectedKey = referenceEncrypt(key, MAX_NONCE, EMPTY, Buffer.alloc(32)).subarray(0, 32);
    const reference = new CipherState(expectedKey);
    reference.setNonce(1n);
    const plaintext = Buffer.from("after rekey");
    const ciphertext = sender.encryptWithAd(EMPTY, plaintext);
    expect(ciphertext).toEqual(reference.encryptWithAd(EMPTY, plaintext));

    // A receiver that has not rekeyed cannot read it; once it rekeys it can.
    receiver.setNonce(1n);
    expectNoiseError(() => receiver.decryptWithAd(EMPTY, ciphertext), "decrypt-failed");
    receiver.rekey();
    expect(receiver.decryptWithAd(EMPTY, ciphertext)).toEqual(plaintext);
  });

  it("cannot rekey without a key", () => {
    expectNoiseError(() => new CipherState().rekey(), "wrong-state");
  });

  it("fails closed after destroy instead of falling back to pass-through", () => {
    const cipher = new CipherState(randomBytes(32));
    cipher.destroy();
    expect(cipher.hasKey()).toBe(false);
    expectNoiseError(() => cipher.encryptWithAd(EMPTY, Buffer.from("secret")), "wrong-state");
    expectNoiseError(() => cipher.decryptWithAd(EMPTY, Buffer.alloc(32)), "wrong-state");
    expectNoiseError(() => cipher.rekey(), "wrong-state");
  });

  it("does not keep a reference to the caller's key buffer", () => {
    const key = randomBytes(32);
    const cipher = new CipherState(key);
    const expected = referenceEncrypt(Buffer.from(key), 0n, EMPTY, Buffer.from("x"));
    key.fill(0);
    expect(cipher.encryptWithAd(EMPTY, Buffer.from("x"))).toEqual(expected);
  });

  it("enforces the 65535-byte Noise message limit in both directions", () => {
    const { sender, receiver } = pairOfCiphers();
    expect(MAX_TRANSPORT_PLAINTEXT).toBe(65519);
    const largest = sender.encryptWithAd(EMPTY, Buffer.alloc(MAX_TRANSPORT_PLAINTEXT));
    expect(largest).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(receiver.decryptWithAd(EMPTY, largest)).toHaveLength(MAX_TRANSPORT_PLAINTEXT);
    expectNoiseError(() => sender.encryptWithAd(EMPTY, Buffer.alloc(MAX_TRANSPORT_PLAINTEXT + 1)), "bad-message");
    expectNoiseError(() => receiver.decryptWithAd(EMPTY, Buffer.alloc(MAX_MESSAGE_LENGTH + 1)), "bad-message");
    expect(sender.nonce).toBe(1n);
    expect(receiver.nonce).toBe(1n);
    expectNoiseError(() => new CipherState().encryptWithAd(EMPTY, Buffer.alloc(MAX_MESSAGE_LENGTH + 1)), "bad-message");
  });
});
