import { describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@jarvis/proto/google/rpc/error_details";
import { describeError } from "./cli-error.js";

describe("describeError", () => {
  it("never lets a server message quoting a peer's text act on the terminal", () => {
    // A contact named with an OSC title and a full reset, quoted back in an error message.
    const hostile = new ConnectError("\u001b]0;pwned\u0007\u001bc\u001b[2Jmallory is already a contact", Code.AlreadyExists);
    const line = describeError(hostile);
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toContain("mallory is already a contact");
    expect(line).not.toContain("pwned");
  });

  it("keeps only the first line", () => {
    expect(describeError(new Error("first\nsecond"))).toBe("first");
  });
});

describe("describeError reads the error code, not the text", () => {
  it("calls an UNAVAILABLE that never reached the service 'daemon not running'", () => {
    expect(describeError(new ConnectError("socket hang up", Code.Unavailable))).toBe("daemon not running: start it with `jarvis up`");
  });

  it("passes on the service's own UNAVAILABLE, which carries a Jarvis error code", () => {
    const info = { desc: ErrorInfoSchema, value: { reason: "network-unavailable", domain: "jarvis" } };
    const fromService = new ConnectError("cannot connect to the network service", Code.Unavailable, undefined, [info]);
    expect(describeError(fromService)).toBe("cannot connect to the network service");
  });
});
