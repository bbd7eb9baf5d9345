import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "@jarvis/proto/jarvis/peer/v1/envelope";

/**
 * Keepalive and Goodbye live in the network layer, so the session never sees them. An Envelope
 * with one body field starts with that field's tag byte: ping = field 7, pong = field 8,
 * goodbye = field 9 (all length-delimited), which lets us recognise them without decoding
 * every payload.
 */
const PING_TAG = (7 << 3) | 2;
const PONG_TAG = (8 << 3) | 2;
const GOODBYE_TAG = (9 << 3) | 2;

export type KeepaliveMessage = { kind: "ping"; nonce: bigint } | { kind: "pong"; nonce: bigint } | { kind: "goodbye" };

export function parseKeepalive(payload: Uint8Array): KeepaliveMessage | undefined {
  const tag = payload[0];
  if (tag !== PING_TAG && tag !== PONG_TAG && tag !== GOODBYE_TAG) return undefined;
  try {
    const envelope = fromBinary(EnvelopeSchema, payload);
    if (envelope.body.case === "ping") return { kind: "ping", nonce: envelope.body.value.nonce };
    if (envelope.body.case === "pong") return { kind: "pong", nonce: envelope.body.value.nonce };
    // The reason is the peer's free text: it is not passed on, so it never reaches logs or screens.
    if (envelope.body.case === "goodbye") return { kind: "goodbye" };
  } catch {
    // Not a well-formed envelope: let the session decide what to do with it.
  }
  return undefined;
}

export function encodePing(nonce: bigint): Uint8Array {
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, { body: { case: "ping", value: { nonce } } }));
}

export function encodePong(nonce: bigint): Uint8Array {
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, { body: { case: "pong", value: { nonce } } }));
}

export function encodeGoodbye(reason: string): Uint8Array {
  return toBinary(EnvelopeSchema, create(EnvelopeSchema, { body: { case: "goodbye", value: { reason } } }));
}
