import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock, type Logger } from "@jarvis/core";
import { encodePipeMessage, type PipeMessage } from "@jarvis/rpc";
import { eventually } from "../../../test/helpers/cli.js";
import { SupervisedChild } from "./supervised-child.js";

/**
 * A fake session that hands its key over the supervisor pipe and dies at once (SIGKILL, as a
 * hung-kill right after an unlock would): the frame is already in the kernel pipe when the
 * supervisor learns of the exit. The supervisor must still read it (faults-kill 1550954876).
 */
const SERVICE = `
import { writeSync } from "node:fs";
writeSync(Number(process.env.JARVIS_SUPERVISOR_PIPE ?? 3), Buffer.from(process.env.KEY_FRAME, "hex"));
process.kill(process.pid, "SIGKILL");
`;

const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => silent };

describe("SupervisedChild: a child's last pipe message", () => {
  const dir = mkdtempSync(join(tmpdir(), "jv-sup-last-"));
  const entry = join(dir, "service.mjs");
  writeFileSync(entry, SERVICE);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is delivered even when the child dies right after writing it", async () => {
    const frame = encodePipeMessage({ type: "key", key: Buffer.alloc(32, 7) }).toString("hex");
    const rounds = 20;
    let delivered = 0;
    let exits = 0;
    for (let i = 0; i < rounds; i++) {
      const received: PipeMessage[] = [];
      const child = new SupervisedChild({
        name: `svc${i}`, entry, env: { ...process.env, KEY_FRAME: frame }, logsDir: dir, log: silent, clock: new FakeClock(0),
        onMessage: (m) => received.push(m),
        onChange: () => { if (child.snapshot().state !== "running" && child.snapshot().state !== "starting") exits++; },
      });
      const before = exits;
      child.start();
      await eventually(async () => (exits > before ? true : undefined), 20_000, "the child exited");
      if (received.some((m) => m.type === "key")) delivered++;
      await child.stop();
    }
    expect(delivered).toBe(rounds);
  });
});
