import { describe, expect, it } from "vitest";
import type { execFile } from "node:child_process";
import { notify } from "./notify.js";

describe("notify", () => {
  it("runs notify-send with the text as inert, truncated arguments (no shell)", () => {
    const calls: { file: string; args: string[] }[] = [];
    const fake = ((file: string, args: string[]) => {
      calls.push({ file, args });
      return undefined;
    }) as unknown as typeof execFile;
    notify("jarvis: bob", `$(touch /tmp/x) \u001b[2J ${"long ".repeat(50)}`, fake);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.file).toBe("notify-send");
    const body = calls[0]!.args.at(-1)!;
    expect(body.startsWith("$(touch /tmp/x)")).toBe(true);
    expect(body).not.toContain("\u001b");
    expect(body.length).toBeLessThanOrEqual(100);
    expect(calls[0]!.args).toContain("--");
  });
});
