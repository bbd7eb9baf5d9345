import { CipherState } from "./cipher-state.js";
import { KEY_LENGTH } from "./aead.js";
import { hash, HASH_LENGTH, hkdf } from "./hash.js";

const EMPTY = Buffer.alloc(0);

export interface Start {
  protocolName: string;
  prologue: Buffer;
  chainingKey: Buffer;
  /** Never written in place (mixHash replaces it), so it is shared, not copied. */
  handshakeHash: Buffer;
}
let lastStart: Start | undefined;

/**
 * Noise §5.2 SymmetricState: the chaining key ck, the handshake hash h, and
 * the CipherState used to encrypt handshake payloads and static keys.
 */
export class SymmetricState {
  #chainingKey: Buffer;
  #handshakeHash: Buffer;
  #cipherState = new CipherState();

  /** InitializeSymmetric(protocol_name); `start` is only for withPrologue's remembered state. */
  constructor(protocolName: string, start?: Start) {
    if (start !== undefined) {
      this.#chainingKey = Buffer.from(start.chainingKey);
      this.#handshakeHash = start.handshakeHash;
      return;
    }
    const name = Buffer.from(protocolName, "utf8");
    if (name.length <= HASH_LENGTH) {
      // Short names are zero-padded rather than hashed, per the spec.
      this.#handshakeHash = Buffer.alloc(HASH_LENGTH);
      name.copy(this.#handshakeHash);
    } else {
      this.#handshakeHash = hash(name);
    }
    this.#chainingKey = Buffer.from(this.#handshakeHash);
  }

  /**
   * InitializeSymmetric(protocol_name) then MixHash(prologue), as every handshake begins. A node
   * runs every handshake with the same name and prologue, so the resulting (ck, h), which depend
   * on nothing else and are public, are remembered for the last pair seen and copied.
   */
  static withPrologue(protocolName: string, prologue: Uint8Array): SymmetricState {
    let start = lastStart;
    if (start === undefined || start.protocolName !== protocolName || !start.prologue.equals(prologue)) {
      const fresh = new SymmetricState(protocolName);
      fresh.mixHash(prologue);
      start = { protocolName, prologue: Buffer.from(prologue), chainingKey: fresh.#chainingKey, handshakeHash: fresh.#handshakeHash };
      lastStart = start;
    }
    return new SymmetricState(protocolName, start);
  }

  hasKey(): boolean {
    return this.#cipherState.hasKey();
  }

  get handshakeHash(): Buffer {
    return Buffer.from(this.#handshakeHash);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, tempKey] = hkdf(this.#chainingKey, inputKeyMaterial);
    this.#chainingKey.fill(0);
    this.#chainingKey = chainingKey;
    this.#cipherState.destroy();
    // HASHLEN is 64, so the cipher key is the first 32 bytes of temp_k.
    this.#cipherState = new CipherState(tempKey.subarray(0, KEY_LENGTH));
    tempKey.fill(0);
  }

  mixHash(data: Uint8Array): void {
    this.#handshakeHash = hash(this.#handshakeHash, data);
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
    const [tempKey1, tempKey2] = hkdf(this.#chainingKey, EMPTY);
    const pair: [CipherState, CipherState] = [
      new CipherState(tempKey1.subarray(0, KEY_LENGTH)),
      new CipherState(tempKey2.subarray(0, KEY_LENGTH)),
    ];
    tempKey1.fill(0);
    tempKey2.fill(0);
    return pair;
  }

  /** Wipes the secrets (ck and k). h is a public transcript hash and stays readable. */
  destroy(): void {
    this.#chainingKey.fill(0);
    this.#cipherState.destroy();
  }
}
