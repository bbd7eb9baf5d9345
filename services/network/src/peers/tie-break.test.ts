import { describe, expect, it } from "vitest";
import { newChannelWins } from "./tie-break.js";

const low = Buffer.alloc(32, 0x01);
const high = Buffer.alloc(32, 0x02);

describe("newChannelWins", () => {
  it("keeps the channel dialled by the lower key, seen from the lower key's side", () => {
    // We are `low`: our outbound channel was dialled by low, the inbound one by high.
    expect(newChannelWins(low, { outbound: true, remoteKey: high }, { outbound: false, remoteKey: high })).toBe(false);
    expect(newChannelWins(low, { outbound: false, remoteKey: high }, { outbound: true, remoteKey: high })).toBe(true);
  });

  it("makes the same choice from the higher key's side", () => {
    // We are `high`: the channel low dialled is inbound for us, and it must survive.
    expect(newChannelWins(high, { outbound: false, remoteKey: low }, { outbound: true, remoteKey: low })).toBe(false);
    expect(newChannelWins(high, { outbound: true, remoteKey: low }, { outbound: false, remoteKey: low })).toBe(true);
  });

  it("lets a newer channel from the same dialler replace the stale one", () => {
    expect(newChannelWins(low, { outbound: true, remoteKey: high }, { outbound: true, remoteKey: high })).toBe(true);
    expect(newChannelWins(low, { outbound: false, remoteKey: high }, { outbound: false, remoteKey: high })).toBe(true);
  });
});
