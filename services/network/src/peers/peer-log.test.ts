import { describe, expect, it } from "vitest";
import { FakeClock, uidFromPublicKey, type Logger } from "@jarvis/core";
import { NetworkNode } from "../network-node.js";
import { generateKeyPair } from "../noise/index.js";
import { Cleanup, cleanupAfterEach, isConnected, startNode, until } from "../testing/index.js";

const cleanup = new Cleanup();
cleanupAfterEach(cleanup);

type Level = "debug" | "info" | "warn" | "error";

/** Keeps every line with its level, bindings included, as the JSON a log file would hold. */
function recordingLogger(lines: { level: Level; text: string }[], bindings: Record<string, unknown> = {}): Logger {
  const at = (level: Level) => (obj: object, msg?: string) => lines.push({ level, text: JSON.stringify({ ...bindings, ...obj, msg }) });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: (more) => recordingLogger(lines, { ...bindings, ...more }) };
}

describe("network logs at the default level", () => {
  it("name no peer for channel opens, closes and failed dials; debug does (documented in peer-log.ts)", async () => {
    const clock = new FakeClock();
    const lines: { level: Level; text: string }[] = [];
    const bobKeys = generateKeyPair();
    const aliceKeys = generateKeyPair();
    const alice = await startNode({ clock, keys: aliceKeys, allowed: [bobKeys.publicKey], cleanup });
    const bob = new NetworkNode({ clock, logger: recordingLogger(lines), defaultListen: "127.0.0.1:0" });
    cleanup.add(() => bob.close());
    const { listenAddress } = await bob.configure({ privateKey: Buffer.from(bobKeys.privateKey), listen: "127.0.0.1:0", allowed: [aliceKeys.publicKey] });

    // Bob dials alice (outbound), alice goes away (closed), bob dials a dead address (failed).
    bob.dial(Buffer.from(aliceKeys.publicKey), [alice.address]);
    await until(() => isConnected(bob, aliceKeys.publicKey), "bob connected to alice");
    bob.disconnect(Buffer.from(aliceKeys.publicKey));
    await until(() => lines.some((l) => l.text.includes("channel closed")), "the close to be logged");
    const stranger = generateKeyPair();
    bob.dial(Buffer.from(stranger.publicKey), ["127.0.0.1:1"]);
    await until(() => lines.some((l) => l.text.includes("dial failed")), "the failed dial to be logged");

    const secrets = [
      uidFromPublicKey(Buffer.from(aliceKeys.publicKey)),
      Buffer.from(aliceKeys.publicKey).toString("hex"),
      Buffer.from(aliceKeys.publicKey).toString("base64"),
      alice.address,
      uidFromPublicKey(Buffer.from(stranger.publicKey)),
    ];
    const info = lines.filter((l) => l.level !== "debug").map((l) => l.text);
    expect(info.some((t) => t.includes("channel established"))).toBe(true);
    for (const secret of secrets) expect(info.filter((t) => t.includes(secret)), secret).toEqual([]);
    // Control: the same events at debug do name the peer, so the check above can see a uid.
    const debug = lines.filter((l) => l.level === "debug").map((l) => l.text).join("\n");
    expect(debug).toContain(secrets[0]);
    expect(listenAddress).not.toBe("");
  });
});
