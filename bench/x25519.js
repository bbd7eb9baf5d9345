// The X25519 ceiling of one Noise XX handshake (issue 18: "3 DH plus 1 keygen per side"), built
// on the cheapest keygen and DH that node:crypto offers on this machine, chosen in the same run by
// timing the candidates in rotating slices. It calls node:crypto directly and imports nothing from
// @jarvis/network, so a change to our noise code cannot move the ceiling with the figure.
// Only the X25519 arithmetic and the KeyObjects it needs are counted: no hashing, no cipher, no
// raw-bytes export or import of public keys (a real handshake needs those too, so this bounds it).
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPair, generateKeyPairSync, randomBytes } from "node:crypto";
import { promisify } from "node:util";
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

// KeyObjects from generateKeyPairSync are never export()ed here: on Node 20.20 that can deadlock
// (services/network/src/noise/keys.ts explains). Nothing below exports a key.
const KEYGENS = {
  generateKeyPairSync: { async: false, run: () => generateKeyPairSync("x25519") },
  generateKeyPairAsync: { async: true, run: () => generateKeyPairAsync("x25519") },
  jwkFromRandomScalar: { async: false, run: jwkFromRandomScalar },
};

/** Where the cached KeyObjects of the DH candidates come from (the DH call itself is the same). */
const DH_KEY_SOURCES = {
  cachedGeneratedKeyObjects: () => generateKeyPairSync("x25519"),
  cachedJwkImportedKeyObjects: jwkFromRandomScalar,
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
  const dhSlices = Object.fromEntries(Object.entries(DH_KEY_SOURCES).map(([name, source]) => {
    const [a, b] = [source(), source()];
    return [name, slice({ async: false, run: () => diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }) })];
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
 * on KeyObjects made once (statics) or by the keygen (ephemerals), never imported per DH.
 * Returns a function doing it once, sync or async as the chosen keygen is; `async` says which.
 */
export function x25519HandshakeWork(choice) {
  const keygen = KEYGENS[choice.keygen];
  const source = DH_KEY_SOURCES[choice.dh];
  const staticA = source();
  const staticB = source();
  const sixDh = (ea, eb) => {
    for (const [privateKey, publicKey] of [
      [ea.privateKey, eb.publicKey], [staticA.privateKey, eb.publicKey], [ea.privateKey, staticB.publicKey],
      [eb.privateKey, ea.publicKey], [staticB.privateKey, ea.publicKey], [eb.privateKey, staticA.publicKey],
    ]) diffieHellman({ privateKey, publicKey });
  };
  if (keygen.async) return { async: true, run: async () => sixDh(await keygen.run(), await keygen.run()) };
  return { async: false, run: () => sixDh(keygen.run(), keygen.run()) };
}

/** One slice of the handshake work, as timeSlice/timeSliceAsync measure it. */
export function x25519Slice(work, sliceMs) {
  return slicer(sliceMs)(work);
}
