import { aeadDecrypt, aeadEncrypt, KEY_LENGTH } from "./aead.js";
import { NoiseError } from "./errors.js";
import { MAX_MESSAGE_LENGTH, TAG_LENGTH } from "./limits.js";

/**
 * 2^64-1 is reserved by the spec (§5.1): it may never be used for a message,
 * only by REKEY. Reaching it means the session has run out of nonces.
 */
const RESERVED_NONCE = 2n ** 64n - 1n;
const REKEY_PLAINTEXT = Buffer.alloc(KEY_LENGTH);
const EMPTY = Buffer.alloc(0);

/** Noise §5.1 CipherState: a key (possibly empty) and a 64-bit counter nonce. */
export class CipherState {
  #key: Buffer | undefined;
  #nonce = 0n;
  #destroyed = false;

  /** Without a key, encryption and decryption pass data through unchanged (spec behaviour). */
  constructor(key?: Uint8Array) {
    if (key !== undefined) {
      if (key.length !== KEY_LENGTH) {
        throw new NoiseError("bad-key", `cipher key must be ${KEY_LENGTH} bytes, got ${key.length}`);
      }
      this.#key = Buffer.from(key);
    }
  }

  get nonce(): bigint {
    return this.#nonce;
  }

  hasKey(): boolean {
    return this.#key !== undefined;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    this.#requireUsable();
    if (this.#key === undefined) return this.#passThrough(plaintext);
    requireMessageLength(plaintext.length + TAG_LENGTH, "ciphertext");
    this.#requireNonceLeft();
    const ciphertext = aeadEncrypt(this.#key, this.#nonce, ad, plaintext);
    this.#nonce += 1n;
    return ciphertext;
  }

  /** On authentication failure the nonce is left unchanged, as the spec requires. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Buffer {
    this.#requireUsable();
    if (this.#key === undefined) return this.#passThrough(ciphertext);
    requireMessageLength(ciphertext.length, "ciphertext");
    this.#requireNonceLeft();
    const plaintext = aeadDecrypt(this.#key, this.#nonce, ad, ciphertext);
    if (plaintext === undefined) {
      throw new NoiseError("decrypt-failed", "message authentication failed");
    }
    this.#nonce += 1n;
    return plaintext;
  }

  /** SetNonce from the spec; exists for tests and for out-of-order transports. */
  setNonce(n: bigint): void {
    if (n < 0n || n > RESERVED_NONCE) {
      throw new RangeError("nonce must be an unsigned 64-bit integer");
    }
    this.#nonce = n;
  }

  /**
   * Noise §4.2 REKEY: the new key is the first 32 bytes of encrypting 32 zero
   * bytes under the reserved nonce. The message nonce is deliberately kept.
   */
  rekey(): void {
    this.#requireUsable();
    if (this.#key === undefined) {
      throw new NoiseError("wrong-state", "cannot rekey a CipherState that has no key");
    }
    const rekeyed = aeadEncrypt(this.#key, RESERVED_NONCE, EMPTY, REKEY_PLAINTEXT);
    this.#key.fill(0);
    this.#key = Buffer.from(rekeyed.subarray(0, KEY_LENGTH));
    rekeyed.fill(0);
  }

  /**
   * Zeroes the key. Afterwards every operation throws instead of silently
   * falling back to the keyless pass-through mode.
   */
  destroy(): void {
    this.#key?.fill(0);
    this.#key = undefined;
    this.#destroyed = true;
  }

  #requireUsable(): void {
    if (this.#destroyed) throw new NoiseError("wrong-state", "CipherState has been destroyed");
  }

  #requireNonceLeft(): void {
    if (this.#nonce >= RESERVED_NONCE) {
      throw new NoiseError("nonce-exhausted", "nonce space exhausted; start a new session");
    }
  }

  #passThrough(data: Uint8Array): Buffer {
    requireMessageLength(data.length, "message");
    return Buffer.from(data);
  }
}

function requireMessageLength(length: number, what: string): void {
  if (length > MAX_MESSAGE_LENGTH) {
    throw new NoiseError("bad-message", `${what} of ${length} bytes exceeds the Noise limit of ${MAX_MESSAGE_LENGTH}`);
  }
}
