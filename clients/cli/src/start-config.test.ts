import { describe, expect, it } from "vitest";
import { DEFAULT_LISTEN_ADDRESS } from "@jarvis/core";
import { envLayer, parseConfig, resolveSettings } from "./start-config.js";

describe("start settings", () => {
  const file = parseConfig("# my node\nlisten = 0.0.0.0:6000\nadvertise = example.org:6000\nlog-level = debug\n", "/p/config");

  it("flags > environment > remembered > config file > defaults", () => {
    const env = envLayer({ JARVIS_LISTEN: "127.0.0.1:7000", JARVIS_LOG_LEVEL: "" });
    const remembered = { advertise: "10.0.0.1:5000" };
    expect(resolveSettings([{ listen: "127.0.0.1:8000" }, env, remembered, file]).settings).toEqual({ listen: "127.0.0.1:8000", advertise: "10.0.0.1:5000", ipc: undefined, logLevel: "debug" });
    expect(resolveSettings([{}, env, remembered, file]).settings.listen).toBe("127.0.0.1:7000");
    expect(resolveSettings([{}, {}, {}, file]).settings).toMatchObject({ listen: "0.0.0.0:6000", advertise: "example.org:6000" });
    expect(resolveSettings([{}, {}, {}, {}])).toEqual({ settings: { listen: DEFAULT_LISTEN_ADDRESS, advertise: "", ipc: undefined, logLevel: "info" }, listenChosen: false });
    expect(resolveSettings([{}, {}, {}, file]).listenChosen).toBe(true);
  });

  it("rejects a bad config line with the file and line number", () => {
    expect(() => parseConfig("listen = 0.0.0.0:6000\ncolour = blue\n", "/p/config")).toThrow('/p/config:2: unknown setting "colour"');
    expect(() => parseConfig("\nlisten = nohost\n", "/p/config")).toThrow(/^\/p\/config:2: bad address/);
    expect(() => parseConfig("just words\n", "/p/config")).toThrow('/p/config:1: expected "key = value"');
  });
});
