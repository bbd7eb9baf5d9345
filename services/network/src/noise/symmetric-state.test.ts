import { describe, expect, it } from "vitest";

import { PROTOCOL_NAME } from "./handshake.js";
import { SymmetricState } from "./symmetric-state.js";

/** The spec's order, with nothing remembered: InitializeSymmetric then MixHash(prologue). */
function manual(prologue: Uint8Array): SymmetricState {
  const state = new SymmetricState(PROTOCOL_NAME);
  state.mixHash(prologue);
  return state;
}

/** h after the start and one MixKey, which also exercises the chaining key. */
function fingerprint(state: SymmetricState): string {
  state.mixKey(Buffer.alloc(32, 5));
  return Buffer.concat([state.handshakeHash, state.encryptAndHash(Buffer.from("probe"))]).toString("hex");
}

describe("SymmetricState.withPrologue", () => {
  it("starts exactly where InitializeSymmetric + MixHash(prologue) does, hit or miss, across prologues", () => {
    const prologues = [Buffer.from("one"), Buffer.from("two"), Buffer.alloc(0), Buffer.from("one")];
    for (let round = 0; round < 3; round++) {
      for (const prologue of prologues) {
        expect(fingerprint(SymmetricState.withPrologue(PROTOCOL_NAME, prologue))).toBe(fingerprint(manual(prologue)));
      }
    }
  });

  it("is not disturbed by the caller reusing its prologue buffer or by destroying an earlier state", () => {
    const prologue = Buffer.from("jarvis");
    const expected = fingerprint(manual(Buffer.from("jarvis")));
    const first = SymmetricState.withPrologue(PROTOCOL_NAME, prologue);
    prologue.write("JARVIS");
    first.destroy();
    expect(fingerprint(SymmetricState.withPrologue(PROTOCOL_NAME, Buffer.from("jarvis")))).toBe(expected);
    expect(fingerprint(SymmetricState.withPrologue(PROTOCOL_NAME, prologue))).toBe(fingerprint(manual(Buffer.from("JARVIS"))));
  });

  it("keeps the protocol name in the remembered start", () => {
    const other = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
    const prologue = Buffer.from("p");
    SymmetricState.withPrologue(PROTOCOL_NAME, prologue);
    const theirs = SymmetricState.withPrologue(other, prologue);
    const expected = new SymmetricState(other);
    expected.mixHash(prologue);
    expect(theirs.handshakeHash).toEqual(expected.handshakeHash);
    expect(theirs.handshakeHash).not.toEqual(manual(prologue).handshakeHash);
  });
});
