import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContactCardSchema, type ContactCard } from "@jarvis/proto/jarvis/peer/v1/card";
import { InvalidArgumentError, fingerprintOf, parseHostPort, uidFromPublicKey } from "@jarvis/core";
import type { Card } from "../model.js";
import { MAX_ADDRESSES, MAX_CARD_BYTES, MAX_NAME_LENGTH } from "../constants.js";

/** Link codes (`jarvis://<base64url card>`) and card validation (design §5). */

export const LINK_PREFIX = "jarvis://";

export function cardToProto(card: Card): ContactCard {
  return create(ContactCardSchema, {
    version: 1,
    uid: card.uid,
    name: card.name,
    publicKey: card.publicKey,
    addresses: card.addresses,
    fingerprint: card.fingerprint,
  });
}

export function encodeLinkCode(card: Card): string {
  return LINK_PREFIX + Buffer.from(toBinary(ContactCardSchema, cardToProto(card))).toString("base64url");
}

export function encodeCardFile(card: Card): Buffer {
  return Buffer.from(toBinary(ContactCardSchema, cardToProto(card)));
}

export function decodeLinkCode(code: string): Card {
  const trimmed = code.trim();
  if (!trimmed.startsWith(LINK_PREFIX)) throw new InvalidArgumentError('bad link code: it must start with "jarvis://"', "bad-link-code");
  const body = trimmed.slice(LINK_PREFIX.length);
  if (body.length === 0 || !/^[A-Za-z0-9_-]+$/.test(body)) throw new InvalidArgumentError("bad link code: not base64url", "bad-link-code");
  const bytes = Buffer.from(body, "base64url");
  return decodeCardBytes(bytes, "bad-link-code", "bad link code");
}

export function decodeCardBytes(bytes: Uint8Array, code = "bad-card", what = "bad card"): Card {
  if (bytes.length > MAX_CARD_BYTES) throw new InvalidArgumentError(`${what}: too large`, code);
  let card: ContactCard;
  try {
    card = fromBinary(ContactCardSchema, bytes);
  } catch {
    throw new InvalidArgumentError(`${what}: not a contact card`, code);
  }
  return validateCard(card, code, what);
}

/** Checks that uid and fingerprint are really those of the key: a card cannot lie about them. */
export function validateCard(card: ContactCard, code = "bad-card", what = "bad card"): Card {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`${what}: ${why}`, code);
  };
  if (card.version !== 1) fail(`unsupported version ${card.version}`);
  if (card.publicKey.length !== 32) fail("public key must be 32 bytes");
  const publicKey = Buffer.from(card.publicKey);
  if (card.uid !== uidFromPublicKey(publicKey)) fail("uid does not match the key");
  if (card.fingerprint !== fingerprintOf(publicKey)) fail("fingerprint does not match the key");
  const name = card.name.trim();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) fail(`name must be 1 to ${MAX_NAME_LENGTH} characters`);
  if (card.addresses.length > MAX_ADDRESSES) fail("too many addresses");
  for (const address of card.addresses) {
    try {
      parseHostPort(address);
    } catch {
      fail(`bad address "${address.slice(0, 64)}"`);
    }
  }
  return { uid: card.uid, name, publicKey, addresses: [...card.addresses], fingerprint: card.fingerprint };
}
