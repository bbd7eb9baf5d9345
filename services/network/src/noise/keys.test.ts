import { createPrivateKey, createPublicKey, diffieHellman } from "node:crypto";

import { describe, expect, it } from "vitest";

import { NoiseError } from "./errors.js";
import { checkKeyPair, copySecret, dh, generateKeyPair, keyPairFromPrivateKey, wipe } from "./keys.js";
import { loadStaticKeyPair } from "./static-keys.js";

function expectBadKey(action: () => unknown): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(NoiseError);
  expect((caught as NoiseError).code).toBe("bad-key");
}

// RFC 7748 §6.1 Diffie-Hellman example.
const ALICE_PRIVATE = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex");
const ALICE_PUBLIC = Buffer.from("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "hex");
const BOB_PRIVATE = Buffer.from("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "hex");
const BOB_PUBLIC = Buffer.from("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", "hex");
const SHARED = Buffer.from("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "hex");

// Points of small order on Curve25519 and the twist (plus non-canonical encodings
// of them). Every clamped scalar is a multiple of 8, so each yields an all-zero secret.
const LOW_ORDER_POINTS = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

// An independent X25519 (OpenSSL's, via node:crypto) to cross-check libsodium's.
const opensslPrivateKey = (raw: Buffer) =>
  createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), raw]), format: "der", type: "pkcs8" });
const opensslPublicKey = (raw: Buffer) =>
  createPublicKey({ key: { kty: "OKP", crv: "X25519", x: raw.toString("base64url") }, format: "jwk" });

describe("keys", () => {
  it("matches the RFC 7748 X25519 example", () => {
    expect(keyPairFromPrivateKey(ALICE_PRIVATE).publicKey).toEqual(ALICE_PUBLIC);
    expect(keyPairFromPrivateKey(BOB_PRIVATE).publicKey).toEqual(BOB_PUBLIC);
    expect(dh(ALICE_PRIVATE, BOB_PUBLIC)).toEqual(SHARED);
    expect(dh(BOB_PRIVATE, ALICE_PUBLIC)).toEqual(SHARED);
  });

  it("generates raw 32-byte key pairs whose public half matches the private half", () => {
    const pair = generateKeyPair();
    expect(pair.publicKey).toHaveLength(32);
    expect(pair.privateKey).toHaveLength(32);
    expect(keyPairFromPrivateKey(pair.privateKey).publicKey).toEqual(pair.publicKey);
    expect(generateKeyPair().privateKey).not.toEqual(pair.privateKey);
  });

  it("agrees on a shared secret from both sides", () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(dh(a.privateKey, b.publicKey)).toEqual(dh(b.privateKey, a.publicKey));
  });

  it("rejects keys of the wrong length", () => {
    expectBadKey(() => keyPairFromPrivateKey(Buffer.alloc(31)));
    expectBadKey(() => dh(Buffer.alloc(32, 1), Buffer.alloc(33, 1)));
    expectBadKey(() => dh(Buffer.alloc(16, 1), ALICE_PUBLIC));
  });

  it("rejects every low-order public key", () => {
    const pair = generateKeyPair();
    for (const point of LOW_ORDER_POINTS) {
      expectBadKey(() => dh(pair.privateKey, Buffer.from(point, "hex")));
    }
  });

  it("checks that a key pair's halves belong together", () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(() => checkKeyPair(a, "test")).not.toThrow();
    expectBadKey(() => checkKeyPair({ publicKey: b.publicKey, privateKey: a.privateKey }, "test"));
    expectBadKey(() => checkKeyPair({ publicKey: a.publicKey, privateKey: Buffer.alloc(31) }, "test"));
    expectBadKey(() => checkKeyPair({ publicKey: Buffer.alloc(33), privateKey: a.privateKey }, "test"));
  });

  it("generates fresh pairs whose public key is the one X25519 derives from the private key", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const pair = generateKeyPair();
      const peer = generateKeyPair();
      // Both directions agree only if pair.publicKey really belongs to its private key.
      expect(dh(pair.privateKey, peer.publicKey)).toEqual(dh(peer.privateKey, pair.publicKey));
      expect(pair.publicKey.equals(Buffer.alloc(32))).toBe(false);
      seen.add(pair.publicKey.toString("hex"));
    }
    expect(seen.size).toBe(100);
  });

  it("agrees with node:crypto's X25519 (OpenSSL) on random keys", () => {
    for (let i = 0; i < 20; i++) {
      const a = generateKeyPair();
      const b = generateKeyPair();
      const openssl = diffieHellman({ privateKey: opensslPrivateKey(a.privateKey), publicKey: opensslPublicKey(b.publicKey) });
      expect(dh(a.privateKey, b.publicKey)).toEqual(openssl);
      expect(createPublicKey(opensslPrivateKey(a.privateKey)).export({ format: "jwk" }).x).toBe(a.publicKey.toString("base64url"));
    }
  });

  it("wipe zeroes a secret in place, and copySecret copies one", () => {
    const pair = generateKeyPair();
    const copy = copySecret(pair.privateKey);
    expect(copy).toEqual(pair.privateKey);
    wipe(copy);
    expect(copy).toEqual(Buffer.alloc(32));
    expect(pair.privateKey).not.toEqual(Buffer.alloc(32));
  });

  it("checks a static pair once per pair object, and never skips the check after the pair changed in place", () => {
    const pair = generateKeyPair();
    const into = (): Buffer => Buffer.alloc(32);
    const copyBuffer = into();
    const first = loadStaticKeyPair(pair, copyBuffer);
    expect(first).toEqual(pair);
    // A copy each time, into the buffer given, so the handshake can wipe its own without touching the caller's pair.
    expect(first.privateKey).toBe(copyBuffer);
    expect(first.privateKey).not.toBe(pair.privateKey);
    wipe(first.privateKey);
    expect(loadStaticKeyPair(pair, into())).toEqual(pair);
    // Overwritten in place with another valid pair: the new key is loaded.
    const other = generateKeyPair();
    other.privateKey.copy(pair.privateKey);
    other.publicKey.copy(pair.publicKey);
    expect(loadStaticKeyPair(pair, into())).toEqual(other);
    // Only the private half wiped: the halves no longer match, so it is refused, not served from the cache.
    pair.privateKey.fill(0);
    expectBadKey(() => loadStaticKeyPair(pair, into()));
  });
});
