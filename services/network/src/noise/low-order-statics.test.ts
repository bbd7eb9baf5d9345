import { randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { NoiseError } from "./errors.js";
import type { NoiseErrorCode } from "./errors.js";
import { PROTOCOL_NAME, XXHandshake } from "./handshake.js";
import { dh, generateKeyPair } from "./keys.js";
import { SymmetricState } from "./symmetric-state.js";
import { expectErrorCode } from "../../../../test/helpers/assertions.js";

const PROLOGUE = Buffer.from("jarvis-test-prologue");
const EMPTY = Buffer.alloc(0);
const expectNoiseError = (action: () => unknown, code: NoiseErrorCode) => expectErrorCode(action, NoiseError, code);

// Small-order points (and a non-canonical encoding of one): X25519 with any of them gives zero.
const LOW_ORDER_POINTS = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((hex) => Buffer.from(hex, "hex"));

/**
 * An initiator that follows XX honestly up to message 3 and then claims `claimedStatic` as its
 * static key, a key it has no private half for. It can encrypt the claim (it knows the
 * handshake key) but not compute se, so the responder must catch it at se.
 */
function forgedThirdMessage(responder: XXHandshake, claimedStatic: Buffer): Buffer {
  const symmetric = new SymmetricState(PROTOCOL_NAME);
  symmetric.mixHash(PROLOGUE);
  const ephemeral = generateKeyPair();
  symmetric.mixHash(ephemeral.publicKey);
  symmetric.mixHash(EMPTY); // message 1's empty payload, unencrypted
  responder.readMessage(ephemeral.publicKey);
  const second = responder.writeMessage(EMPTY);
  const responderEphemeral = second.subarray(0, 32);
  symmetric.mixHash(responderEphemeral);
  symmetric.mixKey(dh(ephemeral.privateKey, responderEphemeral));
  const responderStatic = symmetric.decryptAndHash(second.subarray(32, 80));
  symmetric.mixKey(dh(ephemeral.privateKey, responderStatic));
  expect(symmetric.decryptAndHash(second.subarray(80))).toEqual(EMPTY);
  // The payload tag cannot be right (se is unknown); the responder must refuse before it looks.
  return Buffer.concat([symmetric.encryptAndHash(claimedStatic), randomBytes(16)]);
}

/** The mirror image: a responder claiming `claimedStatic` in message 2, caught at es. */
function forgedSecondMessage(initiator: XXHandshake, claimedStatic: Buffer): Buffer {
  const first = initiator.writeMessage(EMPTY);
  const symmetric = new SymmetricState(PROTOCOL_NAME);
  symmetric.mixHash(PROLOGUE);
  symmetric.mixHash(first);
  symmetric.mixHash(EMPTY);
  const ephemeral = generateKeyPair();
  symmetric.mixHash(ephemeral.publicKey);
  symmetric.mixKey(dh(ephemeral.privateKey, first));
  return Buffer.concat([ephemeral.publicKey, symmetric.encryptAndHash(claimedStatic), randomBytes(16)]);
}

describe("low-order static keys", () => {
  it("a low-order static key in message 3 is refused every time", () => {
    for (const point of LOW_ORDER_POINTS) {
      const responder = new XXHandshake({ initiator: false, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
      const third = forgedThirdMessage(responder, point);
      expectNoiseError(() => responder.readMessage(third), "bad-key");
      expectNoiseError(() => responder.split(), "wrong-state");
    }
  });

  it("a low-order static key in message 2 is refused every time", () => {
    for (const point of LOW_ORDER_POINTS) {
      const initiator = new XXHandshake({ initiator: true, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
      const second = forgedSecondMessage(initiator, point);
      expectNoiseError(() => initiator.readMessage(second), "bad-key");
      expect(initiator.remoteStaticPublicKey).toBeUndefined();
    }
  });

  it("the forgery helpers are honest: with a real key the forged message fails only at the payload tag", () => {
    const responder = new XXHandshake({ initiator: false, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
    // A real public key passes se's DH; the random tag then fails authentication instead.
    expectNoiseError(() => responder.readMessage(forgedThirdMessage(responder, generateKeyPair().publicKey)), "decrypt-failed");
    const initiator = new XXHandshake({ initiator: true, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
    expectNoiseError(() => initiator.readMessage(forgedSecondMessage(initiator, generateKeyPair().publicKey)), "decrypt-failed");
  });
});
