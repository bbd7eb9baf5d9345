import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@jarvis/core";
import { formatIpcAddress, parseIpcAddress } from "./address.js";

describe("IPC addresses", () => {
  it("parses absolute unix paths in both spellings and loopback TCP, port 0 included", () => {
    expect(parseIpcAddress("unix:/run/j/session.sock")).toEqual({ kind: "unix", path: "/run/j/session.sock" });
    expect(parseIpcAddress("unix:///run/j/session.sock")).toEqual({ kind: "unix", path: "/run/j/session.sock" });
    expect(parseIpcAddress("tcp://127.0.0.1:0")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 0 });
    expect(parseIpcAddress("tcp://[::1]:7001")).toEqual({ kind: "tcp", host: "::1", port: 7001 });
  });

  it("rejects relative paths, other schemes and junk", () => {
    for (const junk of ["unix:run/session.sock", "http://127.0.0.1:1", "127.0.0.1:5000", "tcp://127.0.0.1", "tcp://:5", ""]) {
      expect(() => parseIpcAddress(junk), junk).toThrow(InvalidArgumentError);
    }
  });

  it("refuses TCP on anything but loopback, with a clear error", () => {
    for (const ok of ["tcp://127.0.0.1:1", "tcp://127.1.2.3:1", "tcp://localhost:1", "tcp://[::1]:1"]) expect(parseIpcAddress(ok).kind).toBe("tcp");
    for (const remote of ["tcp://0.0.0.0:7001", "tcp://192.168.1.5:7001", "tcp://[::]:7001", "tcp://[::ffff:10.0.0.1]:7001", "tcp://example.com:7001", "tcp://128.0.0.1:1"]) {
      const error = (() => {
        try {
          parseIpcAddress(remote);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, remote).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).message, remote).toMatch(/must stay on this machine/);
      expect((error as InvalidArgumentError).code).toBe("ipc-not-loopback");
    }
  });

  it("formats what it parses, IPv6 in brackets", () => {
    for (const text of ["unix:/tmp/a.sock", "tcp://127.0.0.1:7001", "tcp://[::1]:7001"]) expect(formatIpcAddress(parseIpcAddress(text))).toBe(text);
  });
});
