import { describe, expect, it } from "vitest";
import { SendWindows } from "./send-windows.js";

describe("SendWindows", () => {
  it("sends a frame that fits at once, holds one that does not, and lets it go on release before any later caller", () => {
    const windows = new SendWindows(100);
    const went: string[] = [];
    expect(windows.reserve("p", 60, () => went.push("a"))).toBeUndefined();
    expect(went).toEqual(["a"]);
    const held = windows.reserve("p", 60, () => went.push("b"));
    expect(held).toBeInstanceOf(Promise);
    // Another peer's window is its own.
    expect(windows.reserve("q", 90, () => went.push("q"))).toBeUndefined();
    expect(went).toEqual(["a", "q"]);
    // While b waits, a later frame that would fit waits behind it: call order per peer.
    expect(windows.reserve("p", 10, () => went.push("c"))).toBeInstanceOf(Promise);
    windows.release("p", 60);
    // b and then c went inside release(), not a promise turn later.
    expect(went).toEqual(["a", "q", "b", "c"]);
    expect(windows.inFlight("p")).toBe(70);
    expect(windows.reserve("p", 30, () => went.push("d"))).toBeUndefined();
    expect(went.at(-1)).toBe("d");
  });

  it("lets a frame larger than the window go alone, once nothing else is in flight", () => {
    const windows = new SendWindows(100);
    const went: string[] = [];
    windows.reserve("p", 10, () => went.push("small"));
    const big = windows.reserve("p", 500, () => went.push("big"));
    expect(big).toBeInstanceOf(Promise);
    windows.release("p", 10);
    expect(went).toEqual(["small", "big"]);
    expect(windows.inFlight("p")).toBe(500);
  });
});
