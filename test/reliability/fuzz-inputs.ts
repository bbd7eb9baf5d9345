import { mutateBytes, randomBytes, randomInt as int } from "@jarvis/network/testing";
import { encodeFrame, generateKeyPair, MAX_HANDSHAKE_FRAME, PROLOGUE, XXHandshake } from "../helpers/network.js";

/**
 * Inputs for the P2P listener before its handshake completes: random bytes, bad length
 * prefixes, and a real Noise XX transcript taken apart frame by frame and mutated (bytes
 * flipped, inserted, deleted; frames dropped, duplicated, swapped, cut; length prefixes
 * changed). Every input is a pure function of the generator, so a seed replays it exactly.
 */
export type Random = () => number;

// The seeded helpers the network's own abuse tests use.
export { int, mutateBytes, randomBytes };

/** Splits a `u16 length ‖ body` stream into its frame bodies (a cut last frame is kept as is). */
export function splitFrames(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let at = 0;
  while (at + 2 <= stream.length) {
    const length = stream.readUInt16BE(at);
    frames.push(stream.subarray(at + 2, Math.min(stream.length, at + 2 + length)));
    at += 2 + length;
  }
  return frames;
}

const header = (length: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(length & 0xffff);
  return bytes;
};

const mutators: ((random: Random, frames: Buffer[]) => Buffer)[] = [
  // a bit flipped in one frame's body
  (random, frames) => {
    const copy = frames.map((f) => Buffer.from(f));
    const frame = copy[int(random, 0, copy.length - 1)] as Buffer;
    if (frame.length > 0) {
      const at = int(random, 0, frame.length - 1);
      frame[at] = (frame[at] as number) ^ (1 << int(random, 0, 7));
    }
    return Buffer.concat(copy.map((f) => encodeFrame(f)));
  },
  // bytes inserted into, or deleted from, one frame whose prefix still says its old length
  (random, frames) => {
    const k = int(random, 0, frames.length - 1);
    return Buffer.concat(
      frames.map((f, i) => {
        if (i !== k) return encodeFrame(f);
        const at = int(random, 0, f.length);
        const body = random() < 0.5 ? Buffer.concat([f.subarray(0, at), randomBytes(random, int(random, 1, 16)), f.subarray(at)]) : Buffer.concat([f.subarray(0, at), f.subarray(at + int(random, 1, 16))]);
        return Buffer.concat([header(f.length), body]);
      }),
    );
  },
  // one frame's length prefix changed: 0, off by a little, the handshake cap ± 1, or 0xffff
  (random, frames) => {
    const k = int(random, 0, frames.length - 1);
    const choices = [0, 1, MAX_HANDSHAKE_FRAME, MAX_HANDSHAKE_FRAME + 1, 0xffff];
    return Buffer.concat(
      frames.map((f, i) => {
        if (i !== k) return encodeFrame(f);
        const length = random() < 0.5 ? (choices[int(random, 0, choices.length - 1)] as number) : Math.max(0, f.length + int(random, -8, 8));
        return Buffer.concat([header(length), f]);
      }),
    );
  },
  // frames dropped, duplicated or swapped: a well-formed stream in the wrong order
  (random, frames) => {
    const copy = [...frames];
    const a = int(random, 0, copy.length - 1);
    const op = int(random, 0, 2);
    if (op === 0) copy.splice(a, 1);
    else if (op === 1) copy.splice(a, 0, copy[a] as Buffer);
    else {
      const b = int(random, 0, copy.length - 1);
      [copy[a], copy[b]] = [copy[b] as Buffer, copy[a] as Buffer];
    }
    return Buffer.concat(copy.map((f) => encodeFrame(f)));
  },
  // the genuine stream cut anywhere (mid-prefix, mid-body, between frames)
  (random, frames) => {
    const whole = Buffer.concat(frames.map((f) => encodeFrame(f)));
    return whole.subarray(0, int(random, 1, whole.length - 1));
  },
];

/** A genuine initiator's "-> e" with a fresh key, then a random "-> s, se" of the right size. */
function genuineFirstMessage(random: Random, secondLength: number): Buffer {
  const handshake = new XXHandshake({ initiator: true, staticKeyPair: generateKeyPair(), prologue: PROLOGUE });
  try {
    return Buffer.concat([encodeFrame(handshake.writeMessage(Buffer.alloc(0))), encodeFrame(randomBytes(random, secondLength))]);
  } finally {
    handshake.destroy();
  }
}

export const INPUT_KINDS = ["garbage", "random-frames", "oversized-prefix", "cut-frame", "empty-frames", "genuine-e-then-garbage", "mutated-transcript"] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** Input number `index`: kinds in turn, the mutated transcript more often than the rest. */
export function listenerInput(random: Random, transcript: Buffer[], index: number): { kind: InputKind; bytes: Buffer } {
  const slot = index % 10;
  const kind: InputKind = slot >= INPUT_KINDS.length ? "mutated-transcript" : (INPUT_KINDS[slot] as InputKind);
  switch (kind) {
    case "garbage":
      return { kind, bytes: randomBytes(random, int(random, 1, 4_096)) };
    case "random-frames":
      return { kind, bytes: Buffer.concat(Array.from({ length: int(random, 1, 3) }, () => encodeFrame(randomBytes(random, int(random, 1, MAX_HANDSHAKE_FRAME))))) };
    case "oversized-prefix":
      return { kind, bytes: Buffer.concat([header(int(random, MAX_HANDSHAKE_FRAME + 1, 0xffff)), randomBytes(random, int(random, 0, 2_048))]) };
    case "cut-frame": {
      const length = int(random, 2, MAX_HANDSHAKE_FRAME);
      return { kind, bytes: Buffer.concat([header(length), randomBytes(random, int(random, 0, length - 1))]) };
    }
    case "empty-frames":
      return { kind, bytes: Buffer.alloc(2 * int(random, 1, 4)) };
    case "genuine-e-then-garbage":
      return { kind, bytes: genuineFirstMessage(random, transcript[1]?.length ?? 64) };
    case "mutated-transcript":
      return { kind, bytes: (mutators[int(random, 0, mutators.length - 1)] as (typeof mutators)[number])(random, transcript) };
  }
}
