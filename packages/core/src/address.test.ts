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

describe("parseHostPort and hostile input", () => {
  it("refuses control characters, escapes and bidi marks, and quotes them inert in the error", () => {
    for (const evil of ["a\u001bc:5000", "\u001b]0;pwned\u0007x:1", "host\u0000:1", "ho\u202est:1", "ho\u009bst:1", "h\u200eost:1", "evil\u001b[2J.example:80", "x\u2028y:1"]) {
      const error = rejects(evil);
      expect(error.code).toBe("bad-address");
      // eslint-disable-next-line no-control-regex
      expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200e\u202e\u2028]/);
      expect(error.message).toMatch(/^bad address ".*\\u[0-9a-f]{4}.*": expected host:port$/);
    }
  });

  it("still takes what DNS and IP literals allow", () => {
    expect(parseHostPort("xn--bcher-kva.example:443")).toEqual({ host: "xn--bcher-kva.example", port: 443 });
    expect(parseHostPort("my_node-1.local:5000")).toEqual({ host: "my_node-1.local", port: 5000 });
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
