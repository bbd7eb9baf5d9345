import { createHash, createHmac, hkdfSync, randomBytes } from "node:crypto";

import { describe, expect, it } from "vitest";

import { hash, hashInto, hkdf, hkdfInto, hmacHash } from "./hash.js";

const reference = (parts: Uint8Array[]): Buffer => {
  const hasher = createHash("blake2b512");
  for (const part of parts) hasher.update(part);
  return hasher.digest();
};

describe("hash", () => {
  it("is BLAKE2b-512 of the parts joined, for one part, two, empty ones and ones past the join buffer", () => {
    const cases: [Uint8Array, Uint8Array?][] = [
      [Buffer.alloc(0)],
      [randomBytes(64)],
      [randomBytes(5000)],
      [randomBytes(64), Buffer.alloc(0)],
      [randomBytes(64), randomBytes(48)],
      [randomBytes(64), randomBytes(32)],
      [randomBytes(64), randomBytes(320)],
      [randomBytes(64), randomBytes(321)],
      [randomBytes(64), randomBytes(5000)],
      [new Uint8Array(randomBytes(80).buffer, 7, 40), randomBytes(10)],
    ];
    for (const [a, b] of cases) expect(hash(a, b)).toEqual(reference(b === undefined ? [a] : [a, b]));
  });

  it("leaves nothing of one input in the next: a shorter input after a longer one hashes alone", () => {
    const long = [randomBytes(64), randomBytes(100)];
    const short = [randomBytes(64), randomBytes(10)];
    hash(long[0] as Buffer, long[1]);
    expect(hash(short[0] as Buffer, short[1])).toEqual(reference(short));
  });

  it("never modifies its inputs", () => {
    const a = randomBytes(64);
    const b = randomBytes(48);
    const [copyA, copyB] = [Buffer.from(a), Buffer.from(b)];
    hash(a, b);
    expect(a).toEqual(copyA);
    expect(b).toEqual(copyB);
  });
});

describe("hmacHash and hkdf", () => {
  it("hmacHash is HMAC-BLAKE2b-512 over the joined parts, for keys shorter than, equal to and longer than a block", () => {
    for (const keyLength of [0, 32, 64, 127, 128, 129, 300]) {
      const key = randomBytes(keyLength);
      const keyCopy = Buffer.from(key);
      for (const parts of [[Buffer.alloc(0)], [randomBytes(64), Buffer.from([2])], [randomBytes(1000)], [randomBytes(200), randomBytes(100)]]) {
        const [a, b] = parts as [Buffer, Buffer?];
        expect(hmacHash(key, a, b)).toEqual(createHmac("blake2b512", key).update(Buffer.concat(parts)).digest());
      }
      // The key is only read, even when it is hashed down to a block first.
      expect(key).toEqual(keyCopy);
    }
  });

  it("hkdf is Noise's two-output HKDF (equal to RFC 5869 with salt ck and no info)", () => {
    for (const ikm of [Buffer.alloc(0), randomBytes(32)]) {
      const chainingKey = randomBytes(64);
      const [first, second] = hkdf(chainingKey, ikm);
      const expected = Buffer.from(hkdfSync("blake2b512", ikm, chainingKey, Buffer.alloc(0), 128));
      expect(Buffer.concat([first, second])).toEqual(expected);
    }
  });

  it("hkdfInto and hashInto may overwrite their own input in place (MixKey's ck, MixHash's h)", () => {
    for (const ikm of [Buffer.alloc(0), randomBytes(32)]) {
      const chainingKey = randomBytes(64);
      const [first, second] = hkdf(chainingKey, ikm);
      const inPlace = Buffer.from(chainingKey);
      const secondOut = Buffer.alloc(64);
      hkdfInto(inPlace, ikm, inPlace, secondOut);
      expect(inPlace).toEqual(first);
      expect(secondOut).toEqual(second);
    }
    for (const dataLength of [32, 48, 5000]) {
      const h = randomBytes(64);
      const data = randomBytes(dataLength);
      const expected = reference([h, data]);
      hashInto(h, h, data);
      expect(h).toEqual(expected);
    }
  });
});
