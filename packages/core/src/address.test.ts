import { describe, expect, it } from "vitest";
import { formatHostPort, parseHostPort } from "./address.js";
import { InvalidArgumentError } from "./errors.js";

function rejects(value: string, options?: { allowZeroPort?: boolean }): InvalidArgumentError {
  try {
    parseHostPort(value, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error(`"${value}" was accepted`);
}

describe("parseHostPort", () => {
  it("parses names, IPv4 and bracketed IPv6", () => {
    expect(parseHostPort("127.0.0.1:5000")).toEqual({ host: "127.0.0.1", port: 5000 });
    expect(parseHostPort("alice.example:1")).toEqual({ host: "alice.example", port: 1 });
    expect(parseHostPort("[::1]:65535")).toEqual({ host: "::1", port: 65535 });
    expect(parseHostPort("[2001:db8::1]:7000")).toEqual({ host: "2001:db8::1", port: 7000 });
    expect(parseHostPort("  10.0.0.2:80 ")).toEqual({ host: "10.0.0.2", port: 80 });
  });

  it("accepts port 0 only for listeners that ask for it", () => {
    expect(rejects("127.0.0.1:0").code).toBe("bad-address");
    expect(parseHostPort("127.0.0.1:0", { allowZeroPort: true })).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseHostPort("[::]:0", { allowZeroPort: true })).toEqual({ host: "::", port: 0 });
  });

  it("rejects junk with a clear message", () => {
    for (const junk of ["", "host", ":5000", "host:", "host:65536", "host:123456", "host:-1", "host:abc", "::1:5000", "[::1]", "[::1]5000", "[zz::1]:5", "a b:1", "host:5000:1", "[::1]:", "host:5 0"]) {
      const error = rejects(junk);
      expect(error.code, junk).toBe("bad-address");
      expect(error.message).toBe(`bad address "${junk}": expected host:port`);
    }
  });
});

describe("formatHostPort", () => {
  it("brackets IPv6 so the result parses back to the same address", () => {
    for (const address of [{ host: "::1", port: 5000 }, { host: "10.1.2.3", port: 1 }, { host: "bob.lan", port: 65535 }]) {
      expect(parseHostPort(formatHostPort(address))).toEqual(address);
    }
    expect(formatHostPort({ host: "fe80::1", port: 9 })).toBe("[fe80::1]:9");
  });
});
