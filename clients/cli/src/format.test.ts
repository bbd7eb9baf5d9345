import { describe, expect, it } from "vitest";
import { safeJson } from "./format.js";

describe("safeJson", () => {
  it("round-trips to the same value while leaving no control, bidi or line-separator character raw", () => {
    const hostile = "a\u001b]0;pwned\u0007b\u009bc\u202ed\u2067e\u200ff\u061cg\u2028h\u2029i\u007fj";
    const json = safeJson({ text: hostile });
    expect(JSON.parse(json)).toEqual({ text: hostile });
    // eslint-disable-next-line no-control-regex
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });
});
