import { describe, expect, it } from "vitest";
import { FakeClock } from "@jarvis/core";
import { Link, type LinkEvent } from "./link.js";
import { InboundFlow } from "./inbound-flow.js";

// ReportHold: FramesSent reports wait (on the clock) for the next Link event, so that at one
// message at a time a report shares the HTTP/2 write of the ack or next message; they are
// never lost, never reordered after a later event, and a burst is reported at once.

const key = (n: number) => Buffer.alloc(32, n);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function heldLink(clock: FakeClock, maxHeldFrames = 4): { link: Link; events: string[] } {
  const flow = new InboundFlow({ inboundBytesPerPeer: 1 << 20, inboundBytesTotal: 4 << 20 }, { setReadingPaused: () => undefined });
  // Every frame is written at once: the report is due as soon as the send returns.
  const link = new Link(async (_key, _payload, onWritten) => onWritten?.(), flow, { clock, holdMs: 5, maxHeldFrames });
  link.batchInbound();
  const events: string[] = [];
  void (async () => {
    for await (const event of link as AsyncIterable<LinkEvent>) {
      if (event.kind === "sent") events.push(`sent(${event.publicKey[0]}:${event.frameIds.join(",")})`);
      else if (event.kind === "frame") events.push(`frame(${event.payload.toString()})`);
      else events.push(event.kind);
    }
  })();
  return { link, events };
}

describe("Link report hold", () => {
  it("a lone report waits for the hold, then goes on its own", async () => {
    const clock = new FakeClock();
    const { link, events } = heldLink(clock);
    await link.send(key(1), Buffer.from("m1"), 1n);
    await turn();
    expect(events).toEqual([]);
    clock.advance(4);
    await turn();
    expect(events).toEqual([]);
    clock.advance(1);
    await turn();
    expect(events).toEqual(["sent(1:1)"]);
    link.end();
  });

  it("a held report goes with the next inbound frame, ahead of it, and only once", async () => {
    const clock = new FakeClock();
    const { link, events } = heldLink(clock);
    await link.send(key(1), Buffer.from("m1"), 1n);
    await link.send(key(2), Buffer.from("m2"), 2n);
    link.deliver({ kind: "frame", publicKey: key(1), payload: Buffer.from("ack") });
    await turn();
    expect(events).toEqual(["sent(1:1)", "sent(2:2)", "frame(ack)"]);
    clock.advance(10);
    await turn();
    expect(events).toHaveLength(3);
    link.end();
  });

  it("a disconnect or a drop never overtakes a held report", async () => {
    const clock = new FakeClock();
    const { link, events } = heldLink(clock);
    await link.send(key(1), Buffer.from("m1"), 1n);
    link.deliver({ kind: "disconnected", publicKey: key(1), code: "goodbye", message: "" });
    await turn();
    expect(events).toEqual(["sent(1:1)", "disconnected"]);
    link.end();
  });

  it("a burst of reports is not held", async () => {
    const clock = new FakeClock();
    const { link, events } = heldLink(clock, 4);
    for (let id = 1n; id <= 4n; id++) await link.send(key(1), Buffer.from(`m${id}`), id);
    await turn();
    expect(events).toEqual(["sent(1:1,2,3,4)"]);
    link.end();
  });
});
