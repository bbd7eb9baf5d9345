import type { CipherState } from "./cipher-state.js";
import { NoiseError } from "./errors.js";
import { checkKeyPair, copySecret, DH_LENGTH, dhInto, generateKeyPairInto, wipe, type KeyPair } from "./keys.js";
import { loadStaticKeyPair } from "./static-keys.js";
import { MAX_MESSAGE_LENGTH, TAG_LENGTH } from "./limits.js";
import { XX_PATTERN } from "./patterns.js";
import type { Token } from "./patterns.js";
import { SymmetricState, SYMMETRIC_STATE_LENGTH } from "./symmetric-state.js";

export const PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_BLAKE2b";

export interface HandshakeOptions {
  initiator: boolean;
  staticKeyPair: KeyPair;
  /** Bound into h, so both sides must pass identical bytes or the handshake fails. */
  prologue: Uint8Array;
  /** Only for test vectors: a fixed ephemeral instead of a fresh random one. */
  ephemeralKeyPair?: KeyPair;
}

type Phase = "in-progress" | "complete" | "failed" | "destroyed";

/**
 * Noise §5.3 HandshakeState, driven by the XX token lists.
 *
 * Any error while processing a message (malformed input, failed
 * authentication, bad DH result) aborts the handshake for good, as the spec
 * requires: the half-updated transcript must never be reused. The one
 * exception is writeMessage refusing an oversized payload, which is checked
 * before any state changes so the caller may retry with a smaller one.
 */
export class XXHandshake {
  readonly #initiator: boolean;
  readonly #symmetric: SymmetricState;
  /**
   * This handshake's working keys, in one buffer of its own (keys.ts says why not one each): the
   * copy of our static private key, our ephemeral pair and the latest DH result. The symmetric
   * state's ck and h live in the same allocation, after them. Wiped when the handshake ends.
   */
  readonly #workingKeys: Buffer;
  readonly #sharedSecret: Buffer;
  /** Our own copies of the private keys, so wiping them never touches the caller's pair. */
  #static: KeyPair | undefined;
  #presetEphemeral: KeyPair | undefined;
  #ephemeral: KeyPair | undefined;
  #remoteEphemeral: Buffer | undefined;
  #remoteStatic: Buffer | undefined;
  #messageIndex = 0;
  #phase: Phase = "in-progress";
  #finalHash: Buffer | undefined;
  #transport: [CipherState, CipherState] | undefined;

  /** Throws NoiseError("bad-key") if a key pair has the wrong size or its halves do not match. */
  constructor(options: HandshakeOptions) {
    this.#initiator = options.initiator;
    const buffer = Buffer.alloc(4 * DH_LENGTH + SYMMETRIC_STATE_LENGTH);
    this.#workingKeys = buffer.subarray(0, 4 * DH_LENGTH);
    this.#sharedSecret = this.#workingKey(3);
    this.#static = loadStaticKeyPair(options.staticKeyPair, this.#workingKey(0));
    if (options.ephemeralKeyPair !== undefined) {
      checkKeyPair(options.ephemeralKeyPair, "ephemeral");
      const { publicKey, privateKey } = options.ephemeralKeyPair;
      this.#presetEphemeral = { publicKey: Buffer.from(publicKey), privateKey: copySecret(privateKey) };
    }
    this.#symmetric = SymmetricState.withPrologue(PROTOCOL_NAME, options.prologue, buffer.subarray(4 * DH_LENGTH));
    // XX has no pre-message patterns, so nothing else is mixed in up front.
  }

  get isComplete(): boolean {
    return this.#phase === "complete";
  }

  get remoteStaticPublicKey(): Buffer | undefined {
    return this.#remoteStatic === undefined ? undefined : Buffer.from(this.#remoteStatic);
  }

  /**
   * The final transcript hash, usable for channel binding. Intermediate
   * values are not exposed because they are not yet bound to both parties.
   */
  get handshakeHash(): Buffer {
    if (this.#finalHash === undefined) {
      throw new NoiseError("wrong-state", "the handshake hash is only available after completion");
    }
    return Buffer.from(this.#finalHash);
  }

  writeMessage(payload: Uint8Array): Buffer {
    const tokens = this.#currentTokens("write");
    const length = this.#predictWrittenLength(tokens, payload.length);
    if (length > MAX_MESSAGE_LENGTH) {
      throw new NoiseError(
        "bad-message",
        `handshake message would be ${length} bytes; the Noise limit is ${MAX_MESSAGE_LENGTH}`,
      );
    }
    const parts: Buffer[] = [];
    try {
      for (const token of tokens) {
        if (token === "e") {
          const ephemeral = this.#presetEphemeral ?? this.#generateEphemeral();
          this.#presetEphemeral = undefined;
          this.#ephemeral = ephemeral;
          parts.push(ephemeral.publicKey); // the join below copies it
          this.#symmetric.mixHash(ephemeral.publicKey);
        } else if (token === "s") {
          parts.push(this.#symmetric.encryptAndHash(this.#staticKey().publicKey));
        } else {
          this.#mixDh(token);
        }
      }
      parts.push(this.#symmetric.encryptAndHash(payload));
    } catch (error) {
      this.#abort();
      throw error;
    }
    this.#advance();
    return Buffer.concat(parts);
  }

  /** Returns the decrypted payload. The input buffer is only read, never modified. */
  readMessage(message: Uint8Array): Buffer {
    const tokens = this.#currentTokens("read");
    try {
      if (message.length > MAX_MESSAGE_LENGTH) {
        throw new NoiseError("bad-message", `handshake message of ${message.length} bytes exceeds the Noise limit`);
      }
      let offset = 0;
      const take = (length: number, what: string): Uint8Array => {
        if (message.length - offset < length) {
          throw new NoiseError("bad-message", `handshake message too short for ${what}`);
        }
        const field = message.subarray(offset, offset + length);
        offset += length;
        return field;
      };
      for (const token of tokens) {
        if (token === "e") {
          this.#remoteEphemeral = Buffer.from(take(DH_LENGTH, "ephemeral key"));
          this.#symmetric.mixHash(this.#remoteEphemeral);
        } else if (token === "s") {
          const sealedLength = DH_LENGTH + (this.#symmetric.hasKey() ? TAG_LENGTH : 0);
          this.#remoteStatic = this.#symmetric.decryptAndHash(take(sealedLength, "static key"));
        } else {
          this.#mixDh(token);
        }
      }
      const payloadCiphertext = message.subarray(offset);
      if (this.#symmetric.hasKey() && payloadCiphertext.length < TAG_LENGTH) {
        throw new NoiseError("bad-message", "handshake message too short for the payload tag");
      }
      const payload = this.#symmetric.decryptAndHash(payloadCiphertext);
      this.#advance();
      return payload;
    } catch (error) {
      this.#remoteStatic = undefined;
      this.#abort();
      throw error;
    }
  }

  /**
   * Hands out the transport ciphers exactly once, already oriented for this
   * side: the initiator sends with c1, the responder with c2. A second call is
   * refused so two owners can never share (and desynchronise) one nonce.
   */
  split(): { send: CipherState; receive: CipherState } {
    if (this.#phase !== "complete" || this.#transport === undefined) {
      throw new NoiseError("wrong-state", "split() needs a completed handshake and may be called once");
    }
    const [c1, c2] = this.#transport;
    this.#transport = undefined;
    return this.#initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 };
  }

  /** Wipes every secret this object still holds, including un-taken transport keys. */
  destroy(): void {
    this.#wipeHandshakeSecrets();
    if (this.#transport !== undefined) {
      for (const cipher of this.#transport) cipher.destroy();
      this.#transport = undefined;
    }
    this.#phase = "destroyed";
  }

  #currentTokens(action: "write" | "read"): readonly Token[] {
    if (this.#phase !== "in-progress") {
      throw new NoiseError("wrong-state", `cannot ${action}: the handshake is ${this.#phase}`);
    }
    const initiatorsTurn = this.#messageIndex % 2 === 0;
    const ourTurn = initiatorsTurn === this.#initiator;
    if ((action === "write") !== ourTurn) {
      throw new NoiseError(
        "wrong-state",
        `cannot ${action} message ${this.#messageIndex + 1}: it is the ${ourTurn ? "local" : "remote"} side's turn to send`,
      );
    }
    const tokens = XX_PATTERN.messages[this.#messageIndex];
    if (tokens === undefined) {
      throw new NoiseError("wrong-state", "no handshake message left");
    }
    return tokens;
  }

  /** Size of the message writeMessage would produce, computed without touching state. */
  #predictWrittenLength(tokens: readonly Token[], payloadLength: number): number {
    let keyed = this.#symmetric.hasKey();
    let length = 0;
    for (const token of tokens) {
      if (token === "e") length += DH_LENGTH;
      else if (token === "s") length += DH_LENGTH + (keyed ? TAG_LENGTH : 0);
      else keyed = true; // every DH token ends in MixKey
    }
    return length + payloadLength + (keyed ? TAG_LENGTH : 0);
  }

  #staticKey(): KeyPair {
    if (this.#static === undefined) throw new NoiseError("wrong-state", "the static key has been wiped");
    return this.#static;
  }

  /** The first letter of a DH token names the initiator's key, the second the responder's. */
  #mixDh(token: Exclude<Token, "e" | "s">): void {
    const local = token[this.#initiator ? 0 : 1] === "e" ? this.#ephemeral : this.#staticKey();
    const remote = token[this.#initiator ? 1 : 0] === "e" ? this.#remoteEphemeral : this.#remoteStatic;
    if (local === undefined || remote === undefined) {
      throw new NoiseError("wrong-state", `token ${token} needs a key that has not been established`);
    }
    const shared = this.#sharedSecret;
    dhInto(shared, local.privateKey, remote);
    this.#symmetric.mixKey(shared);
    wipe(shared);
  }

  #workingKey(index: number): Buffer {
    return this.#workingKeys.subarray(index * DH_LENGTH, (index + 1) * DH_LENGTH);
  }

  #generateEphemeral(): KeyPair {
    const pair = { privateKey: this.#workingKey(1), publicKey: this.#workingKey(2) };
    generateKeyPairInto(pair);
    return pair;
  }

  #advance(): void {
    this.#messageIndex += 1;
    if (this.#messageIndex < XX_PATTERN.messages.length) return;
    this.#transport = this.#symmetric.split();
    this.#finalHash = this.#symmetric.handshakeHash;
    this.#wipeHandshakeSecrets();
    this.#phase = "complete";
  }

  #abort(): void {
    this.#wipeHandshakeSecrets();
    this.#phase = "failed";
  }

  /**
   * Zeroes ck, k and this handshake's copies of the private keys (ours: the caller's own static
   * key buffers are left alone), then drops them.
   */
  #wipeHandshakeSecrets(): void {
    this.#symmetric.destroy();
    wipe(this.#workingKeys);
    if (this.#presetEphemeral !== undefined) wipe(this.#presetEphemeral.privateKey);
    if (this.#ephemeral !== undefined) wipe(this.#ephemeral.privateKey);
    this.#ephemeral = undefined;
    this.#presetEphemeral = undefined;
    this.#static = undefined;
  }
}
