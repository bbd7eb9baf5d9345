import { isIPv6 } from "node:net";

/**
 * Which "source" a pending handshake is charged to. IPv4 (also when the listener sees it as
 * ::ffff:a.b.c.d) is one address; IPv6 is its /64, because one host is routinely handed a whole
 * /64 and could otherwise take a fresh address for every socket.
 */
export function handshakeSource(remoteAddress: string | undefined): string {
  if (!remoteAddress) return "?";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (!isIPv6(remoteAddress)) return remoteAddress;
  return `${expandIPv6(remoteAddress).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head, tail] = address.split("%")[0]!.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ""));
}

/** Pending items grouped by source, oldest first within each. */
export class PendingBySource<T> {
  #bySource = new Map<string, Set<T>>();

  count(source: string): number {
    return this.#bySource.get(source)?.size ?? 0;
  }

  add(source: string, item: T): void {
    let items = this.#bySource.get(source);
    if (!items) this.#bySource.set(source, (items = new Set()));
    items.add(item);
  }

  delete(source: string, item: T): void {
    const items = this.#bySource.get(source);
    if (!items?.delete(item)) return;
    if (items.size === 0) this.#bySource.delete(source);
  }

  /** The oldest item of the source holding the most, if it holds more than `moreThan`. */
  oldestOfLargest(moreThan: number): { source: string; item: T } | undefined {
    let largest: [string, Set<T>] | undefined;
    for (const entry of this.#bySource) if (!largest || entry[1].size > largest[1].size) largest = entry;
    if (!largest || largest[1].size <= moreThan) return undefined;
    const [source, items] = largest;
    return { source, item: items.values().next().value as T };
  }

  clear(): void {
    this.#bySource.clear();
  }
}
