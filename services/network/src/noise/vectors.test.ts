import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { XXHandshake } from "./handshake.js";
import type { CipherState } from "./cipher-state.js";
import { keyPairFromPrivateKey } from "./keys.js";

// Vectors from flynn/noise (see test/fixtures/NOISE-VECTORS-LICENSE).
const FIXTURE = new URL("../../test/fixtures/noise-vectors-xx.txt", import.meta.url);
const HANDSHAKE_MESSAGES = 3;

interface VectorMessage {
  payload: Buffer;
  ciphertext: Buffer;
}

interface Vector {
  protocol: string;
  initiatorStatic: Buffer;
  responderStatic: Buffer;
  initiatorEphemeral: Buffer;
  responderEphemeral: Buffer;
  prologue: Buffer;
  messages: VectorMessage[];
}

function splitBlocks(text: string): string[] {
  return text.split(/\r?\n\s*\r?\n/).map((block) => block.trim()).filter((block) => block.length > 0);
}

function parseBlock(block: string): Vector {
  const fields = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith("#")) continue;
    const separator = line.indexOf("=");
    if (separator < 0) throw new Error(`malformed vector line: ${line}`);
    fields.set(line.slice(0, separator), line.slice(separator + 1));
  }
  const required = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined) throw new Error(`vector is missing ${key}`);
    return value;
  };
  const hex = (key: string): Buffer => Buffer.from(required(key), "hex");
  if (fields.has("preshared_key")) throw new Error("PSK vectors do not belong in the XX fixture");

  const messages: VectorMessage[] = [];
  for (let index = 0; fields.has(`msg_${index}_ciphertext`); index++) {
    messages.push({ payload: hex(`msg_${index}_payload`), ciphertext: hex(`msg_${index}_ciphertext`) });
  }
  return {
    protocol: required("handshake"),
    initiatorStatic: hex("init_static"),
    responderStatic: hex("resp_static"),
    initiatorEphemeral: hex("gen_init_ephemeral"),
    responderEphemeral: hex("gen_resp_ephemeral"),
    prologue: Buffer.from(fields.get("prologue") ?? "", "hex"),
    messages,
  };
}

const blocks = splitBlocks(readFileSync(FIXTURE, "utf8"));
const vectors = blocks.map(parseBlock);
const vectorsPassed = new Set<number>();

describe("flynn/noise test vectors for Noise_XX_25519_ChaChaPoly_BLAKE2b", () => {
  const cases = vectors.map((vector, index) => ({
    vector,
    index,
    name: `#${index + 1} (${vector.prologue.length > 0 ? "with" : "empty"} prologue, ${
      vector.messages.some((message) => message.payload.length > 0) ? "with" : "empty"
    } handshake payloads)`,
  }));

  it.each(cases)(
    "vector $name reproduces every message byte for byte",
    ({ vector, index }) => {
      expect(vector.protocol).toBe("Noise_XX_25519_ChaChaPoly_BLAKE2b");
      expect(vector.messages.length).toBeGreaterThan(HANDSHAKE_MESSAGES);

      const initiatorStatic = keyPairFromPrivateKey(vector.initiatorStatic);
      const responderStatic = keyPairFromPrivateKey(vector.responderStatic);
      const initiator = new XXHandshake({
        initiator: true,
        staticKeyPair: initiatorStatic,
        prologue: vector.prologue,
        ephemeralKeyPair: keyPairFromPrivateKey(vector.initiatorEphemeral),
      });
      const responder = new XXHandshake({
        initiator: false,
        staticKeyPair: responderStatic,
        prologue: vector.prologue,
        ephemeralKeyPair: keyPairFromPrivateKey(vector.responderEphemeral),
      });

      vector.messages.slice(0, HANDSHAKE_MESSAGES).forEach((message, messageIndex) => {
        const [writer, reader] = messageIndex % 2 === 0 ? [initiator, responder] : [responder, initiator];
        const written = writer.writeMessage(message.payload);
        expect(written.toString("hex")).toBe(message.ciphertext.toString("hex"));
        expect(reader.readMessage(written)).toEqual(message.payload);
      });

      expect(initiator.isComplete).toBe(true);
      expect(responder.isComplete).toBe(true);
      expect(initiator.handshakeHash).toEqual(responder.handshakeHash);
      expect(initiator.remoteStaticPublicKey).toEqual(responderStatic.publicKey);
      expect(responder.remoteStaticPublicKey).toEqual(initiatorStatic.publicKey);

      const initiatorCiphers = initiator.split();
      const responderCiphers = responder.split();
      vector.messages.slice(HANDSHAKE_MESSAGES).forEach((message, transportIndex) => {
        // After the handshake the vectors alternate initiator→responder (c1)
        // and responder→initiator (c2), starting with the initiator.
        const [sender, receiver]: [CipherState, CipherState] =
          transportIndex % 2 === 0
            ? [initiatorCiphers.send, responderCiphers.receive]
            : [responderCiphers.send, initiatorCiphers.receive];
        const ciphertext = sender.encryptWithAd(Buffer.alloc(0), message.payload);
        expect(ciphertext.toString("hex")).toBe(message.ciphertext.toString("hex"));
        expect(receiver.decryptWithAd(Buffer.alloc(0), ciphertext)).toEqual(message.payload);
      });

      vectorsPassed.add(index);
    },
  );

  it("ran every block of the fixture", () => {
    const handshakeLines = readFileSync(FIXTURE, "utf8").match(/^handshake=/gm) ?? [];
    expect(blocks.length).toBeGreaterThan(0);
    expect(handshakeLines.length).toBe(blocks.length);
    expect(vectorsPassed.size).toBe(blocks.length);
  });
});
