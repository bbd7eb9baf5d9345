// The X25519 ceiling of one Noise XX handshake (issue 18: "3 DH plus 1 keygen per side"), built
// on the cheapest keygen and DH on this machine, from node:crypto (OpenSSL, on KeyObjects) and
// libsodium (sodium-native, on raw 32-byte buffers), chosen in the same run by timing the
// candidates in rotating slices. It calls both libraries directly and imports nothing from
// @jarvis/network, so a change to our noise code cannot move the ceiling with the figure.
// Only the X25519 arithmetic and the key objects it needs are counted: no hashing, no cipher, no
// raw-bytes export or import of public keys (a real handshake needs those too, so this bounds it).
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPair, generateKeyPairSync, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import sodium from "sodium-native";
import { round0, timeSlice, timeSliceAsync } from "./measure.js";

const generateKeyPairAsync = promisify(generateKeyPair);
// Node requires an "x" member in a private JWK but derives the public half from "d".
const JWK_X_PLACEHOLDER = Buffer.alloc(32).toString("base64url");

/** A keygen gives a private KeyObject for DH and its public KeyObject for the peer's DH. */
function jwkFromRandomScalar() {
  const d = randomBytes(32).toString("base64url"); // RFC 7748: X25519 clamps the scalar itself
  const privateKey = createPrivateKey({ key: { kty: "OKP", crv: "X25519", d, x: JWK_X_PLACEHOLDER }, format: "jwk" });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** libsodium: a random scalar (X25519 clamps it) and its public key, as raw buffers. */
function sodiumKeyPair() {
  const privateKey = Buffer.alloc(32);
  sodium.randombytes_buf(privateKey);
  const publicKey = Buffer.alloc(32);
  sodium.crypto_scalarmult_base(publicKey, privateKey);
  return { privateKey, publicKey };
}

function sodiumDh({ privateKey, publicKey }) {
  const shared = Buffer.alloc(32);
  sodium.crypto_scalarmult(shared, privateKey, publicKey);
  return shared;
}

// KeyObjects from generateKeyPairSync are never export()ed here: on Node 20.20 that can deadlock
// (the fourth round's notes in bench/README.md explain). Nothing below exports a key.
// `library` says which DH can use a keygen's keys.
const KEYGENS = {
  generateKeyPairSync: { library: "node", async: false, run: () => generateKeyPairSync("x25519") },
  generateKeyPairAsync: { library: "node", async: true, run: () => generateKeyPairAsync("x25519") },
  jwkFromRandomScalar: { library: "node", async: false, run: jwkFromRandomScalar },
  sodiumRandomScalar: { library: "sodium", async: false, run: sodiumKeyPair },
};

/** Each DH candidate: where its cached keys come from, and the DH call on them. */
const DH_CANDIDATES = {
  cachedGeneratedKeyObjects: { library: "node", source: () => generateKeyPairSync("x25519"), dh: diffieHellman },
  cachedJwkImportedKeyObjects: { library: "node", source: jwkFromRandomScalar, dh: diffieHellman },
  sodiumScalarmult: { library: "sodium", source: sodiumKeyPair, dh: sodiumDh },
};

/** One slice of `count`-times-per-op work, sync or awaited one at a time. */
const slicer = (sliceMs) => (candidate) => (candidate.async
  ? () => timeSliceAsync(async () => (await candidate.run(), 1), sliceMs)
  : () => timeSlice(() => (candidate.run(), 1), sliceMs));

/** Runs every named slice function once per round, the order rotating; returns ops/s per name. */
async function rotate(rounds, slices) {
  const names = Object.keys(slices);
  const total = Object.fromEntries(names.map((name) => [name, { ops: 0, seconds: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length];
      const slice = await slices[name]();
      total[name].ops += slice.ops;
      total[name].seconds += slice.seconds;
    }
  }
  return Object.fromEntries(names.map((name) => [name, total[name].ops / total[name].seconds]));
}

const fastest = (rates) => Object.entries(rates).sort((a, b) => b[1] - a[1])[0][0];

/**
 * Times every keygen and DH candidate in rotating slices and picks the fastest of each.
 * Returns the choice and every candidate's ops/s, for the JSON.
 */
export async function chooseX25519({ sliceMs, rounds }) {
  const slice = slicer(sliceMs);
  const keygenRates = await rotate(rounds, Object.fromEntries(Object.entries(KEYGENS).map(([name, c]) => [name, slice(c)])));
  const dhSlices = Object.fromEntries(Object.entries(DH_CANDIDATES).map(([name, { source, dh }]) => {
    const [a, b] = [source(), source()];
    return [name, slice({ async: false, run: () => dh({ privateKey: a.privateKey, publicKey: b.publicKey }) })];
  }));
  const dhRates = await rotate(rounds, dhSlices);
  const keygen = fastest(keygenRates);
  const dh = fastest(dhRates);
  return {
    keygen,
    dh,
    candidatesPerSecond: {
      keygen: Object.fromEntries(Object.entries(keygenRates).map(([k, v]) => [k, round0(v)])),
      dh: Object.fromEntries(Object.entries(dhRates).map(([k, v]) => [k, round0(v)])),
    },
  };
}

/**
 * The X25519 work of one XX handshake, both sides: 2 ephemeral keygens (the chosen one) and 6 DH
 * (the chosen one) on keys made once (statics) or by the keygen (ephemerals), never imported per
 * DH. Should the fastest keygen and DH come from different libraries, the DHs use two cached
 * ephemerals of the DH's own kind instead (a DH costs the same whatever the key), so no key
 * conversion is counted. Returns a function doing it once, sync or async as the chosen keygen
 * is; `async` says which.
 */
export function x25519HandshakeWork(choice) {
  const keygen = KEYGENS[choice.keygen];
  const { library, source, dh } = DH_CANDIDATES[choice.dh];
  const staticA = source();
  const staticB = source();
  const cachedEphemerals = [source(), source()];
  const usable = (generated, k) => (keygen.library === library ? generated : cachedEphemerals[k]);
  const sixDh = (ea, eb) => {
    for (const [privateKey, publicKey] of [
      [ea.privateKey, eb.publicKey], [staticA.privateKey, eb.publicKey], [ea.privateKey, staticB.publicKey],
      [eb.privateKey, ea.publicKey], [staticB.privateKey, ea.publicKey], [eb.privateKey, staticA.publicKey],
    ]) dh({ privateKey, publicKey });
  };
  if (keygen.async) return { async: true, run: async () => sixDh(usable(await keygen.run(), 0), usable(await keygen.run(), 1)) };
  return { async: false, run: () => sixDh(usable(keygen.run(), 0), usable(keygen.run(), 1)) };
}

/** One slice of the handshake work, as timeSlice/timeSliceAsync measure it. */
export function x25519Slice(work, sliceMs) {
  return slicer(sliceMs)(work);
}
