import { create, ScalarType, type DescEnum, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { int, randomBytes, type Random } from "./fuzz-inputs.js";

/**
 * Random request messages built field by field from the protobuf-es descriptors, so every RPC
 * of a service can be fuzzed without a hand-written case per method. Each field is left out
 * now and then; strings are huge, unicode, control characters, or plausible values from a
 * pool (contact names, group ids, link codes, addresses) so the calls also get past the first
 * validation; integers are negative, zero or at their limits; enums take values outside their
 * range; bytes have random and exact-key lengths.
 */
export interface FieldPools {
  /** Plausible strings for any string field (names, ids, references). */
  strings: string[];
  /** Strings for fields whose name says they hold an address: kept to loopback or invalid forms, so nothing dials out. */
  addresses: string[];
}

const HOSTILE_STRINGS = ["", " ", "\u0000", "\x1b]0;x\x07\x1b[2J", "\u202e", "\ud800", "💥".repeat(100), "名前", "../../etc/passwd", "contact:", "group:", "jarvis://", "%s%n", "\r\n\t"];

function randomString(random: Random, field: DescField, pools: FieldPools): string {
  const roll = random();
  if (/address|listen/i.test(field.name)) return pools.addresses[int(random, 0, pools.addresses.length - 1)] as string;
  if (roll < 0.35 && pools.strings.length > 0) return pools.strings[int(random, 0, pools.strings.length - 1)] as string;
  if (roll < 0.7) return HOSTILE_STRINGS[int(random, 0, HOSTILE_STRINGS.length - 1)] as string;
  if (roll < 0.8) return "x".repeat(int(random, 1_000, 200_000));
  return Array.from({ length: int(random, 1, 64) }, () => String.fromCodePoint(int(random, 0, 0x10ffff) & ~0x800)).join("");
}

function pick<T>(random: Random, values: T[]): T {
  return values[int(random, 0, values.length - 1)] as T;
}

function randomScalar(random: Random, type: ScalarType, field: DescField, pools: FieldPools): unknown {
  switch (type) {
    case ScalarType.STRING:
      return randomString(random, field, pools);
    case ScalarType.BYTES:
      return randomBytes(random, pick(random, [0, 1, 16, 31, 32, 33, 64, int(random, 0, 4_096)]));
    case ScalarType.BOOL:
      return random() < 0.5;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return pick(random, [0, -0, NaN, Infinity, -Infinity, 1e308, random() * 1e6 - 5e5]);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return pick(random, [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), int(random, -1_000, 100_000)]);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return pick(random, [0, 1, 2 ** 32 - 1, 2 ** 31, int(random, 0, 100_000)]);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return pick(random, [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, BigInt(int(random, 0, 1e9))]);
    default: // INT64, SINT64, SFIXED64
      return pick(random, [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n), BigInt(int(random, -1e9, 1e9))]);
  }
}

function randomEnum(random: Random, desc: DescEnum): number {
  if (random() < 0.2) return pick(random, [-1, 9_999, 2 ** 31 - 1]);
  return pick(random, desc.values).number;
}

function randomValue(random: Random, field: DescField, pools: FieldPools, depth: number): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return randomScalar(random, field.scalar, field, pools);
    case "enum":
      return randomEnum(random, field.enum);
    case "message":
      return randomMessage(random, field.message, pools, depth + 1);
    case "list": {
      const length = random() < 0.1 ? int(random, 100, 2_000) : int(random, 0, 4);
      return Array.from({ length }, () =>
        field.listKind === "scalar" ? randomScalar(random, field.scalar, field, pools) : field.listKind === "enum" ? randomEnum(random, field.enum) : randomMessage(random, field.message, pools, depth + 1),
      );
    }
    case "map": {
      const entries: [unknown, unknown][] = Array.from({ length: int(random, 0, 4) }, () => [
        String(randomScalar(random, field.mapKey, field, pools)),
        field.mapKind === "scalar" ? randomScalar(random, field.scalar, field, pools) : field.mapKind === "enum" ? randomEnum(random, field.enum) : randomMessage(random, field.message, pools, depth + 1),
      ]);
      return Object.fromEntries(entries);
    }
  }
}

/** A message of type `desc` with every field random or missing (nested messages up to depth 3). */
export function randomMessage(random: Random, desc: DescMessage, pools: FieldPools, depth = 0): Message {
  const init: Record<string, unknown> = {};
  if (depth > 3) return create(desc);
  for (const field of desc.fields) {
    if (field.oneof || random() < 0.25) continue;
    init[field.localName] = randomValue(random, field, pools, depth);
  }
  for (const oneof of desc.oneofs) {
    if (random() < 0.2) continue;
    const field = pick(random, oneof.fields);
    init[oneof.localName] = { case: field.localName, value: randomValue(random, field, pools, depth) };
  }
  return create(desc, init as never);
}
