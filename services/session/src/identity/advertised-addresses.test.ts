import type { NetworkInterfaceInfo } from "node:os";
import { describe, expect, it } from "vitest";
import { advertisedAddresses } from "./advertised-addresses.js";

const v4 = (address: string, internal = false) => ({ address, family: "IPv4", internal, netmask: "255.255.255.0", mac: "00:00:00:00:00:00", cidr: null }) as NetworkInterfaceInfo;
const v6 = (address: string, internal = false) => ({ address, family: "IPv6", internal, netmask: "ffff::", mac: "00:00:00:00:00:00", cidr: null, scopeid: 0 }) as NetworkInterfaceInfo;

const machine = {
  lo: [v4("127.0.0.1", true), v6("::1", true)],
  eth0: [v4("192.168.1.20"), v6("fe80::1"), v6("2001:db8::20")],
  wlan0: [v4("10.0.0.7")],
};

describe("advertisedAddresses", () => {
  it("on 0.0.0.0 lists the machine's non-loopback IPv4 addresses, then loopback last", () => {
    expect(advertisedAddresses("0.0.0.0:5000", "", machine)).toEqual(["192.168.1.20:5000", "10.0.0.7:5000", "127.0.0.1:5000"]);
  });

  it("on :: adds global IPv6 (never link-local) and both loopbacks last", () => {
    expect(advertisedAddresses("[::]:5000", "", machine)).toEqual(["192.168.1.20:5000", "10.0.0.7:5000", "[2001:db8::20]:5000", "[::1]:5000", "127.0.0.1:5000"]);
  });

  it("--advertise overrides everything", () => {
    expect(advertisedAddresses("0.0.0.0:5000", "example.org:7000", machine)).toEqual(["example.org:7000"]);
  });

  it("a specific listen host is the only address; not listening yet gives none", () => {
    expect(advertisedAddresses("127.0.0.1:4000", "", machine)).toEqual(["127.0.0.1:4000"]);
    expect(advertisedAddresses("", "", machine)).toEqual([]);
  });

  it("a machine with only loopback still gets a dialable (local) address", () => {
    expect(advertisedAddresses("0.0.0.0:5000", "", { lo: [v4("127.0.0.1", true)] })).toEqual(["127.0.0.1:5000"]);
  });
});
