import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import { formatHostPort, parseHostPort } from "@jarvis/core";

/** At most this many addresses go on a card (a link code must stay pasteable). */
const MAX_ADDRESSES = 6;

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * The addresses put on this node's card (link code, .jcard, Hello): where other machines can
 * dial it. `--advertise` wins. A node listening on a wildcard (0.0.0.0 or ::) is reachable on
 * every interface, so the card lists the machine's non-loopback addresses first (IPv4, then
 * global IPv6; link-local ones need a scope and are left out) and loopback last — a card made
 * for the same machine still works, and one sent to another machine is not stuck on 127.0.0.1.
 * A specific listen host is the one address. Not listening yet: no address.
 */
export function advertisedAddresses(listen: string, advertise: string, interfaces: Interfaces = networkInterfaces()): string[] {
  if (advertise) return [advertise];
  if (!listen) return [];
  const { host, port } = parseHostPort(listen, { allowZeroPort: true });
  const wildcardV4 = host === "0.0.0.0";
  const wildcardV6 = host === "::";
  if (!wildcardV4 && !wildcardV6) return [listen];
  const external: string[] = [];
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.internal) continue;
      if (info.family === "IPv4") external.push(formatHostPort({ host: info.address, port }));
      // On Linux a socket bound to :: also accepts IPv4, so both families belong on the card.
      else if (wildcardV6 && !info.address.toLowerCase().startsWith("fe80:")) external.push(formatHostPort({ host: info.address, port }));
    }
  }
  const ipv4 = external.filter((a) => !a.startsWith("["));
  const ipv6 = external.filter((a) => a.startsWith("["));
  const loopback = wildcardV6 ? [formatHostPort({ host: "::1", port }), formatHostPort({ host: "127.0.0.1", port })] : [formatHostPort({ host: "127.0.0.1", port })];
  const unique = [...new Set([...ipv4, ...ipv6])].slice(0, MAX_ADDRESSES - loopback.length);
  return [...unique, ...loopback];
}
