import { CipherState } from "./cipher-state.js";
import { KEY_LENGTH } from "./aead.js";
import { hash, hashInto, HASH_LENGTH, hkdfInto } from "./hash.js";

const EMPTY = Buffer.alloc(0);

export interface Start {
  protocolName: string;
  prologue: Buffer;
  chainingKey: Buffer;
  handshakeHash: Buffer;
}
let lastStart: Start | undefined;

/** Bytes of the buffer a SymmetricState keeps ck, h and temp_k in (see the constructor). */
export const SYMMETRIC_STATE_LENGTH = 3 * HASH_LENGTH;

/**
 * Noise §5.2 SymmetricState: the chaining key ck, the handshake hash h, and
 * the CipherState used to encrypt handshake payloads and static keys.
 */
export class SymmetricState {
  // ck, h and the second HKDF output live in one buffer of this state's own, and every hash is
  // written into them in place: a fresh 64-byte digest per hash would sit on V8's heap and be
  // moved off it when handed to libsodium (hash.ts says what that cost). Their own buffer, not
  // Buffer's shared pool, so destroy() wiping ck leaves no copy behind.
  readonly #chainingKey: Buffer;
  readonly #handshakeHash: Buffer;
  /** HKDF's second output (temp_k, or Split's second key), wiped as soon as it is used. */
  readonly #secondOutput: Buffer;
  #cipherState = new CipherState();

  /**
   * InitializeSymmetric(protocol_name); `start` is only for withPrologue's remembered state.
   * `state` (SYMMETRIC_STATE_LENGTH bytes) lets a handshake hand over part of its own buffer, so
   * a handshake allocates one buffer, not two.
   */
  constructor(protocolName: string, start?: Start, state: Buffer = Buffer.alloc(SYMMETRIC_STATE_LENGTH)) {
    this.#chainingKey = state.subarray(0, HASH_LENGTH);
    this.#handshakeHash = state.subarray(HASH_LENGTH, 2 * HASH_LENGTH);
    this.#secondOutput = state.subarray(2 * HASH_LENGTH);
    if (start !== undefined) {
      this.#chainingKey.set(start.chainingKey);
      this.#handshakeHash.set(start.handshakeHash);
      return;
    }
    const name = Buffer.from(protocolName, "utf8");
    if (name.length <= HASH_LENGTH) {
      // Short names are zero-padded rather than hashed, per the spec.
      name.copy(this.#handshakeHash);
    } else {
      this.#handshakeHash.set(hash(name));
    }
    this.#chainingKey.set(this.#handshakeHash);
  }

  /**
   * InitializeSymmetric(protocol_name) then MixHash(prologue), as every handshake begins. A node
   * runs every handshake with the same name and prologue, so the resulting (ck, h), which depend
   * on nothing else and are public, are remembered for the last pair seen and copied.
   */
  static withPrologue(protocolName: string, prologue: Uint8Array, state?: Buffer): SymmetricState {
    let start = lastStart;
    if (start === undefined || start.protocolName !== protocolName || !start.prologue.equals(prologue)) {
      const fresh = new SymmetricState(protocolName);
      fresh.mixHash(prologue);
      start = {
        protocolName,
        prologue: Buffer.from(prologue),
        chainingKey: Buffer.from(fresh.#chainingKey),
        handshakeHash: Buffer.from(fresh.#handshakeHash),
      };
      lastStart = start;
    }
    return new SymmetricState(protocolName, start, state);
  }

  hasKey(): boolean {
    return this.#cipherState.hasKey();
  }

  get handshakeHash(): Buffer {
    return Buffer.from(this.#handshakeHash);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    hkdfInto(this.#chainingKey, inputKeyMaterial, this.#chainingKey, this.#secondOutput);
    this.#cipherState.destroy();
    // HASHLEN is 64, so the cipher key is the first 32 bytes of temp_k.
    this.#cipherState = new CipherState(this.#secondOutput.subarray(0, KEY_LENGTH));
    this.#secondOutput.fill(0);
  }

  mixHash(data: Uint8Array): void {
    hashInto(this.#handshakeHash, this.#handshakeHash, data);
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = this.#cipherState.encryptWithAd(this.#handshakeHash, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Buffer {
    const plaintext = this.#cipherState.decryptWithAd(this.#handshakeHash, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split(): c1 protects initiator→responder traffic, c2 responder→initiator. */
  split(): [CipherState, CipherState] {
    // The first output overwrites ck, which Split is the last use of (destroy() wipes it).
    hkdfInto(this.#chainingKey, EMPTY, this.#chainingKey, this.#secondOutput);
    const pair: [CipherState, CipherState] = [
      new CipherState(this.#chainingKey.subarray(0, KEY_LENGTH)),
      new CipherState(this.#secondOutput.subarray(0, KEY_LENGTH)),
    ];
    this.#chainingKey.fill(0);
    this.#secondOutput.fill(0);
    return pair;
  }

  /** Wipes the secrets (ck and k). h is a public transcript hash and stays readable. */
  destroy(): void {
    this.#chainingKey.fill(0);
    this.#cipherState.destroy();
  }
}
