import { describe, expect, it } from "vitest";

import { NoiseError } from "./errors.js";
import type { NoiseErrorCode } from "./errors.js";
import { PROTOCOL_NAME, XXHandshake } from "./handshake.js";
import { dh, generateKeyPair } from "./keys.js";
import type { KeyPair } from "./keys.js";
import { MAX_MESSAGE_LENGTH } from "./limits.js";
import { SymmetricState } from "./symmetric-state.js";
import { expectErrorCode } from "../../../../test/helpers/assertions.js";

const PROLOGUE = Buffer.from("jarvis-test-prologue");
const EMPTY = Buffer.alloc(0);
const HANDSHAKE_PAYLOADS = [Buffer.from("first"), Buffer.from("second"), Buffer.from("third")];

const expectNoiseError = (action: () => unknown, code: NoiseErrorCode) => expectErrorCode(action, NoiseError, code);

function newPair(
  initiatorStatic: KeyPair,
  responderStatic: KeyPair,
  prologue: Uint8Array = PROLOGUE,
): { initiator: XXHandshake; responder: XXHandshake } {
  return {
    initiator: new XXHandshake({ initiator: true, staticKeyPair: initiatorStatic, prologue }),
    responder: new XXHandshake({ initiator: false, staticKeyPair: responderStatic, prologue }),
  };
}

/** Runs all three XX messages, letting `tamper` rewrite each one in flight. */
function runHandshake(
  initiator: XXHandshake,
  responder: XXHandshake,
  tamper: (messageIndex: number, message: Buffer) => Buffer = (_, message) => message,
): Buffer[] {
  const received: Buffer[] = [];
  for (let index = 0; index < 3; index++) {
    const [writer, reader] = index % 2 === 0 ? [initiator, responder] : [responder, initiator];
    const payload = HANDSHAKE_PAYLOADS[index] ?? EMPTY;
    received.push(reader.readMessage(tamper(index, writer.writeMessage(payload))));
  }
  return received;
}

interface Failure {
  messageIndex: number;
  phase: "write" | "read";
  error: unknown;
}

/** Like runHandshake, but reports where the first failure happened instead of throwing. */
function findFailure(
  initiator: XXHandshake,
  responder: XXHandshake,
  tamper: (messageIndex: number, message: Buffer) => Buffer,
): Failure | undefined {
  for (let index = 0; index < 3; index++) {
    const [writer, reader] = index % 2 === 0 ? [initiator, responder] : [responder, initiator];
    let message: Buffer;
    try {
      message = writer.writeMessage(HANDSHAKE_PAYLOADS[index] ?? EMPTY);
    } catch (error) {
      return { messageIndex: index, phase: "write", error };
    }
    try {
      reader.readMessage(tamper(index, message));
    } catch (error) {
      return { messageIndex: index, phase: "read", error };
    }
  }
  return undefined;
}

function flipped(message: Buffer, position: number, mask = 0x01): Buffer {
  const copy = Buffer.from(message);
  copy[position] = (copy[position] ?? 0) ^ mask;
  return copy;
}

describe("XXHandshake", () => {
  it("uses the protocol name the rest of the system expects", () => {
    expect(PROTOCOL_NAME).toBe("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  });

  it("completes, delivers payloads, learns both static keys and agrees on h and traffic keys", () => {
    const initiatorStatic = generateKeyPair();
    const responderStatic = generateKeyPair();
    const { initiator, responder } = newPair(initiatorStatic, responderStatic);

    expect(initiator.remoteStaticPublicKey).toBeUndefined();
    expect(runHandshake(initiator, responder)).toEqual(HANDSHAKE_PAYLOADS);

    expect(initiator.isComplete).toBe(true);
    expect(responder.isComplete).toBe(true);
    expect(initiator.remoteStaticPublicKey).toEqual(responderStatic.publicKey);
    expect(responder.remoteStaticPublicKey).toEqual(initiatorStatic.publicKey);
    expect(initiator.handshakeHash).toHaveLength(64);
    expect(initiator.handshakeHash).toEqual(responder.handshakeHash);

    const initiatorCiphers = initiator.split();
    const responderCiphers = responder.split();
    const toResponder = initiatorCiphers.send.encryptWithAd(EMPTY, Buffer.from("hello responder"));
    expect(responderCiphers.receive.decryptWithAd(EMPTY, toResponder).toString()).toBe("hello responder");
    const toInitiator = responderCiphers.send.encryptWithAd(EMPTY, Buffer.from("hello initiator"));
    expect(initiatorCiphers.receive.decryptWithAd(EMPTY, toInitiator).toString()).toBe("hello initiator");

    // The two directions use different keys: a message cannot be reflected back to its sender.
    const reflected = initiatorCiphers.send.encryptWithAd(EMPTY, Buffer.from("reflect me"));
    expectNoiseError(() => initiatorCiphers.receive.decryptWithAd(EMPTY, reflected), "decrypt-failed");
  });

  it("wipes only its own copies of the private keys: the caller's pairs are untouched, and reusable", () => {
    const initiatorStatic = generateKeyPair();
    const responderStatic = generateKeyPair();
    const presetEphemeral = generateKeyPair();
    const copies = [initiatorStatic, responderStatic, presetEphemeral].map((pair) => Buffer.concat([pair.privateKey, pair.publicKey]));
    const initiator = new XXHandshake({ initiator: true, staticKeyPair: initiatorStatic, prologue: PROLOGUE, ephemeralKeyPair: presetEphemeral });
    const responder = new XXHandshake({ initiator: false, staticKeyPair: responderStatic, prologue: PROLOGUE });
    runHandshake(initiator, responder);
    initiator.destroy();
    responder.destroy();
    expect([initiatorStatic, responderStatic, presetEphemeral].map((pair) => Buffer.concat([pair.privateKey, pair.publicKey]))).toEqual(copies);
    // The same static pairs (served from the checked-pair cache now) still complete a handshake.
    const again = newPair(initiatorStatic, responderStatic);
    expect(runHandshake(again.initiator, again.responder)).toEqual(HANDSHAKE_PAYLOADS);
  });

  it("derives different traffic keys and h for two sessions between the same static keys", () => {
    const initiatorStatic = generateKeyPair();
    const responderStatic = generateKeyPair();
    const first = newPair(initiatorStatic, responderStatic);
    const second = newPair(initiatorStatic, responderStatic);
    runHandshake(first.initiator, first.responder);
    runHandshake(second.initiator, second.responder);

    expect(first.initiator.handshakeHash).not.toEqual(second.initiator.handshakeHash);
    const firstCiphers = { initiator: first.initiator.split(), responder: first.responder.split() };
    const secondCiphers = { initiator: second.initiator.split(), responder: second.responder.split() };
    const plaintext = Buffer.from("same plaintext, same nonce");
    const fromFirst = firstCiphers.initiator.send.encryptWithAd(EMPTY, plaintext);
    const fromSecond = secondCiphers.initiator.send.encryptWithAd(EMPTY, plaintext);
    expect(fromFirst).not.toEqual(fromSecond);
    // Neither session can read the other's traffic.
    expectNoiseError(() => secondCiphers.responder.receive.decryptWithAd(EMPTY, fromFirst), "decrypt-failed");
    expect(firstCiphers.responder.receive.decryptWithAd(EMPTY, fromFirst)).toEqual(plaintext);
  });

  it("fails when the two sides use different prologues", () => {
    const initiator = new XXHandshake({ initiator: true, staticKeyPair: generateKeyPair(), prologue: Buffer.from("a") });
    const responder = new XXHandshake({ initiator: false, staticKeyPair: generateKeyPair(), prologue: Buffer.from("b") });
    const failure = findFailure(initiator, responder, (_, message) => message);
    expect(failure).toMatchObject({ messageIndex: 1, phase: "read" });
    expect((failure?.error as NoiseError).code).toBe("decrypt-failed");
  });

  describe("tampering with handshake messages", () => {
    const initiatorStatic = generateKeyPair();
    const responderStatic = generateKeyPair();
    const lengths = (() => {
      const { initiator, responder } = newPair(initiatorStatic, responderStatic);
      const seen: number[] = [];
      runHandshake(initiator, responder, (_, message) => {
        seen.push(message.length);
        return message;
      });
      return seen;
    })();

    it("has the message sizes XX implies (e; e+s+tag+tag; s+tag+tag) plus payloads", () => {
      expect(lengths).toEqual([32 + 5, 32 + 48 + 6 + 16, 48 + 5 + 16]);
    });

    // Message 1 (-> e) carries no MAC, so a change to it can only be noticed
    // when the initiator authenticates message 2, which is bound to the
    // transcript hash h and to DH(e, re). Messages 2 and 3 are authenticated
    // directly by their reader.
    const detectedAt = [
      { messageIndex: 1, phase: "read" },
      { messageIndex: 1, phase: "read" },
      { messageIndex: 2, phase: "read" },
    ] as const;

    for (const [messageIndex, length] of lengths.entries()) {
      it(`rejects every single-byte flip of message ${messageIndex + 1} (${length} bytes)`, () => {
        for (let position = 0; position < length; position++) {
          const { initiator, responder } = newPair(initiatorStatic, responderStatic);
          const failure = findFailure(initiator, responder, (index, message) =>
            index === messageIndex ? flipped(message, position) : message,
          );
          expect(failure, `flip at byte ${position}`).toMatchObject(detectedAt[messageIndex] ?? {});
          expect(failure?.error).toBeInstanceOf(NoiseError);
          expect((failure?.error as NoiseError).code, `flip at byte ${position}`).toBe("decrypt-failed");
          // The rejecting side never completes. (After message 3 the initiator
          // has already completed: it cannot know its last message was altered,
          // and learns it only when the responder never talks back.)
          expect(responder.isComplete).toBe(false);
          expect(initiator.isComplete).toBe(messageIndex === 2);
        }
      });
    }

    it("rejects a flip of bit 255 of an ephemeral key, which X25519 itself ignores", () => {
      // X25519 masks the top bit of the u-coordinate, so the DH result is
      // unchanged; only hashing the raw bytes into h catches this change.
      for (const messageIndex of [0, 1]) {
        const { initiator, responder } = newPair(initiatorStatic, responderStatic);
        const failure = findFailure(initiator, responder, (index, message) =>
          index === messageIndex ? flipped(message, 31, 0x80) : message,
        );
        expect(failure).toMatchObject({ messageIndex: 1, phase: "read" });
        expect((failure?.error as NoiseError).code).toBe("decrypt-failed");
      }
    });

    it("rejects truncated and extended messages", () => {
      const cases: { messageIndex: number; tamper: (message: Buffer) => Buffer; code: NoiseErrorCode }[] = [
        { messageIndex: 0, tamper: (m) => m.subarray(0, 31), code: "bad-message" },
        { messageIndex: 1, tamper: (m) => m.subarray(0, 95), code: "bad-message" },
        { messageIndex: 1, tamper: (m) => m.subarray(0, m.length - 1), code: "decrypt-failed" },
        { messageIndex: 1, tamper: (m) => Buffer.concat([m, Buffer.from([0])]), code: "decrypt-failed" },
        { messageIndex: 2, tamper: (m) => m.subarray(0, 63), code: "bad-message" },
        { messageIndex: 2, tamper: (m) => Buffer.concat([m, Buffer.from([0])]), code: "decrypt-failed" },
        { messageIndex: 2, tamper: () => Buffer.alloc(MAX_MESSAGE_LENGTH + 1), code: "bad-message" },
      ];
      for (const { messageIndex, tamper, code } of cases) {
        const { initiator, responder } = newPair(initiatorStatic, responderStatic);
        const failure = findFailure(initiator, responder, (index, message) =>
          index === messageIndex ? tamper(message) : message,
        );
        expect(failure).toMatchObject({ messageIndex, phase: "read" });
        expect((failure?.error as NoiseError).code).toBe(code);
      }
    });
  });

  it("never modifies the buffer passed to readMessage", () => {
    const { initiator, responder } = newPair(generateKeyPair(), generateKeyPair());
    const messages: Buffer[] = [];
    const snapshots: string[] = [];
    runHandshake(initiator, responder, (_, message) => {
      messages.push(message);
      snapshots.push(message.toString("hex"));
      return message;
    });
    expect(messages.map((message) => message.toString("hex"))).toEqual(snapshots);
  });

  it("rejects every transport-ciphertext byte flip without consuming the nonce", () => {
    const { initiator, responder } = newPair(generateKeyPair(), generateKeyPair());
    runHandshake(initiator, responder);
    const sender = initiator.split().send;
    const receiver = responder.split().receive;
    const plaintext = Buffer.from("transport payload");
    const ciphertext = sender.encryptWithAd(EMPTY, plaintext);
    for (let position = 0; position < ciphertext.length; position++) {
      expectNoiseError(() => receiver.decryptWithAd(EMPTY, flipped(ciphertext, position)), "decrypt-failed");
    }
    expect(receiver.nonce).toBe(0n);
    expect(receiver.decryptWithAd(EMPTY, ciphertext)).toEqual(plaintext);
    expect(receiver.nonce).toBe(1n);
  });

  describe("wrong-state calls", () => {
    it("refuses to send or receive out of turn, without disturbing the handshake", () => {
      const { initiator, responder } = newPair(generateKeyPair(), generateKeyPair());
      expectNoiseError(() => initiator.readMessage(Buffer.alloc(32)), "wrong-state");
      expectNoiseError(() => responder.writeMessage(EMPTY), "wrong-state");
      const first = initiator.writeMessage(EMPTY);
      expectNoiseError(() => initiator.writeMessage(EMPTY), "wrong-state");
      responder.readMessage(first);
      expectNoiseError(() => responder.readMessage(first), "wrong-state");
      initiator.readMessage(responder.writeMessage(EMPTY));
      responder.readMessage(initiator.writeMessage(EMPTY));
      expect(initiator.isComplete && responder.isComplete).toBe(true);
      expect(initiator.handshakeHash).toEqual(responder.handshakeHash);
    });

    it("refuses split and handshakeHash before completion, and any message after it", () => {
      const { initiator, responder } = newPair(generateKeyPair(), generateKeyPair());
      expectNoiseError(() => initiator.split(), "wrong-state");
      expectNoiseError(() => initiator.handshakeHash, "wrong-state");
      runHandshake(initiator, responder);
      expectNoiseError(() => initiator.writeMessage(EMPTY), "wrong-state");
      expectNoiseError(() => responder.readMessage(Buffer.alloc(64)), "wrong-state");
      initiator.split();
      expectNoiseError(() => initiator.split(), "wrong-state");
    });

    it("stays failed after an error and refuses everything after destroy", () => {
      const { initiator, responder } = newPair(generateKeyPair(), generateKeyPair());
      responder.readMessage(initiator.writeMessage(EMPTY));
      expectNoiseError(() => initiator.readMessage(flipped(responder.writeMessage(EMPTY), 40)), "decrypt-failed");
      expect(initiator.remoteStaticPublicKey).toBeUndefined();
      expectNoiseError(() => initiator.writeMessage(EMPTY), "wrong-state");

      const fresh = newPair(generateKeyPair(), generateKeyPair());
      runHandshake(fresh.initiator, fresh.responder);
      const hash = fresh.initiator.handshakeHash;
      fresh.initiator.destroy();
      expectNoiseError(() => fresh.initiator.split(), "wrong-state");
      // h is a public transcript hash, so it stays readable for channel binding.
      expect(fresh.initiator.handshakeHash).toEqual(hash);
    });
  });

  describe("impersonation", () => {
    /**
     * Builds message 2 the way a responder would, step by step from the spec,
     * but claiming `claimedStatic` while computing es with `esPrivateKey`.
     * An impostor knows only the victim's public key, so it must use its own
     * private key there.
     */
    function forgeMessage2(message1: Buffer, claimedStatic: Buffer, esPrivateKey: Buffer): Buffer {
      const transcript = new SymmetricState(PROTOCOL_NAME);
      transcript.mixHash(PROLOGUE);
      const initiatorEphemeral = message1.subarray(0, 32);
      transcript.mixHash(initiatorEphemeral);
      transcript.decryptAndHash(message1.subarray(32));
      const ephemeral = generateKeyPair();
      transcript.mixHash(ephemeral.publicKey);
      transcript.mixKey(dh(ephemeral.privateKey, initiatorEphemeral)); // ee
      const sealedStatic = transcript.encryptAndHash(claimedStatic); // s
      transcript.mixKey(dh(esPrivateKey, initiatorEphemeral)); // es
      const sealedPayload = transcript.encryptAndHash(Buffer.from("trust me"));
      return Buffer.concat([ephemeral.publicKey, sealedStatic, sealedPayload]);
    }

    it("an attacker holding only the responder's public key fails at the initiator's read of message 2", () => {
      const victim = generateKeyPair();
      const attacker = generateKeyPair();
      const initiator = new XXHandshake({ initiator: true, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
      const forged = forgeMessage2(initiator.writeMessage(EMPTY), victim.publicKey, attacker.privateKey);
      // The static key itself decrypts (it is only protected by ee, which the
      // attacker shares), but the payload is keyed by es = DH(e_i, victim),
      // which the attacker cannot compute, so the payload's tag fails.
      expectNoiseError(() => initiator.readMessage(forged), "decrypt-failed");
      expect(initiator.isComplete).toBe(false);
      expect(initiator.remoteStaticPublicKey).toBeUndefined();
      expectNoiseError(() => initiator.writeMessage(EMPTY), "wrong-state");
    });

    it("the same forgery succeeds with the victim's private key (so the failure above is due only to the key)", () => {
      const victim = generateKeyPair();
      const initiator = new XXHandshake({ initiator: true, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
      const genuine = forgeMessage2(initiator.writeMessage(EMPTY), victim.publicKey, victim.privateKey);
      expect(initiator.readMessage(genuine).toString()).toBe("trust me");
      expect(initiator.remoteStaticPublicKey).toEqual(victim.publicKey);
    });

    it("refuses a local key pair whose public half does not match its private half", () => {
      const victim = generateKeyPair();
      const attacker = generateKeyPair();
      expectNoiseError(
        () =>
          new XXHandshake({
            initiator: false,
            staticKeyPair: { publicKey: victim.publicKey, privateKey: attacker.privateKey },
            prologue: PROLOGUE,
          }),
        "bad-key",
      );
    });

    it("an attacker using its own key pair completes, but the remote static reveals it", () => {
      const victim = generateKeyPair();
      const attacker = generateKeyPair();
      const { initiator, responder } = newPair(generateKeyPair(), attacker);
      runHandshake(initiator, responder);
      // XX authenticates *a* key; callers must compare it with the expected identity.
      expect(initiator.remoteStaticPublicKey).toEqual(attacker.publicKey);
      expect(initiator.remoteStaticPublicKey).not.toEqual(victim.publicKey);
    });
  });

  describe("low-order ephemeral keys", () => {
    it("a responder given an all-zero ephemeral refuses to answer", () => {
      const responder = new XXHandshake({ initiator: false, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
      // Message 1 has no DH, so the bad key is only caught by ee in message 2.
      expect(responder.readMessage(Buffer.alloc(32))).toEqual(EMPTY);
      expectNoiseError(() => responder.writeMessage(EMPTY), "bad-key");
      expectNoiseError(() => responder.writeMessage(EMPTY), "wrong-state");
    });

    it("an initiator given an all-zero ephemeral in message 2 rejects it", () => {
      const { initiator, responder } = newPair(generateKeyPair(), generateKeyPair());
      responder.readMessage(initiator.writeMessage(EMPTY));
      const message = responder.writeMessage(EMPTY);
      const zeroed = Buffer.concat([Buffer.alloc(32), message.subarray(32)]);
      expectNoiseError(() => initiator.readMessage(zeroed), "bad-key");
    });
  });

  describe("message size limit", () => {
    it("refuses to write a message over 65535 bytes and lets the caller retry", () => {
      const { initiator, responder } = newPair(generateKeyPair(), generateKeyPair());
      expectNoiseError(() => initiator.writeMessage(Buffer.alloc(MAX_MESSAGE_LENGTH - 32 + 1)), "bad-message");
      const largest = initiator.writeMessage(Buffer.alloc(MAX_MESSAGE_LENGTH - 32, 7));
      expect(largest).toHaveLength(MAX_MESSAGE_LENGTH);
      expect(responder.readMessage(largest)).toEqual(Buffer.alloc(MAX_MESSAGE_LENGTH - 32, 7));

      expectNoiseError(() => responder.writeMessage(Buffer.alloc(MAX_MESSAGE_LENGTH - 96 + 1)), "bad-message");
      expect(responder.writeMessage(Buffer.alloc(MAX_MESSAGE_LENGTH - 96))).toHaveLength(MAX_MESSAGE_LENGTH);
    });
  });

  it("rejects static key pairs of the wrong size", () => {
    expectNoiseError(
      () =>
        new XXHandshake({
          initiator: true,
          staticKeyPair: { publicKey: Buffer.alloc(31), privateKey: Buffer.alloc(32) },
          prologue: EMPTY,
        }),
      "bad-key",
    );
  });
});
