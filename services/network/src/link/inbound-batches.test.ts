import { describe, expect, it } from "vitest";
import { Link, SENT_REPORT_FLUSH_BYTES, type LinkEvent } from "./link.js";
import { InboundFlow } from "./inbound-flow.js";

const key = (n: number) => Buffer.alloc(32, n);
const frame = (n: number, text: string): LinkEvent => ({ kind: "frame", publicKey: key(n), payload: Buffer.from(text) });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function newLink(paused: string[]): { link: Link; flow: InboundFlow } {
  const flow = new InboundFlow({ inboundBytesPerPeer: 1 << 20, inboundBytesTotal: 4 << 20 }, { setReadingPaused: (k, p) => paused.push(`${k[0]}:${p}`) });
  return { link: new Link(async () => undefined, flow), flow };
}

/** Takes the events queued so far, as short strings. */
async function take(link: Link, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const { value } = (await link.next()) as IteratorYieldResult<LinkEvent>;
    if (value.kind === "frames") out.push(`frames(${value.frames.map((f) => f.payload.toString()).join(",")})`);
    else if (value.kind === "frame") out.push(`frame(${value.payload.toString()})`);
    else out.push(value.kind);
  }
  return out;
}

describe("Link inbound batches", () => {
  it("without LinkOptions, one event per frame", async () => {
    const { link } = newLink([]);
    link.deliver(frame(1, "a"));
    link.deliver(frame(1, "b"));
    expect(await take(link, 2)).toEqual(["frame(a)", "frame(b)"]);
  });

  it("frames of one turn become one event, never reordered around other events; bytes count until taken", async () => {
    const { link, flow } = newLink([]);
    link.batchInbound();
    link.deliver(frame(1, "a"));
    link.deliver(frame(2, "b"));
    link.deliver({ kind: "disconnected", publicKey: key(2), code: "goodbye", message: "" });
    link.deliver(frame(1, "c"));
    link.deliver(frame(1, "d"));
    expect(flow.queuedBytes).toBe(4);
    await turn();
    link.deliver(frame(1, "e"));
    await turn();
    expect(await take(link, 4)).toEqual(["frames(a,b)", "disconnected", "frames(c,d)", "frame(e)"]);
    expect(flow.queuedBytes).toBe(0);
  });
});

describe("Link batches do not wait for the end of the turn", () => {
  it("a lone inbound frame reaches the session before the turn's other callbacks run", async () => {
    const { link } = newLink([]);
    link.batchInbound();
    let turnEnded = false;
    setImmediate(() => (turnEnded = true));
    link.deliver(frame(1, "alone"));
    expect(await take(link, 1)).toEqual(["frame(alone)"]);
    expect(turnEnded).toBe(false);
  });
});

describe("Written reports gather for SENT_REPORT_FOLD_MS", () => {
  /** A Link whose writes complete at once (the socket took them). */
  function writingLink(): Link {
    const flow = new InboundFlow({ inboundBytesPerPeer: 1 << 20, inboundBytesTotal: 4 << 20 }, { setReadingPaused: () => undefined });
    return new Link(async (_key, _payload, onWritten) => onWritten?.(), flow);
  }
  const sentIds = (event: LinkEvent) => (event.kind === "sent" ? event.frameIds : event.kind);

  it("reports the frames written over several turns within the fold as one FramesSent per peer", async () => {
    const link = writingLink();
    for (const id of [1n, 2n]) void link.send(key(7), Buffer.from("x"), id);
    void link.send(key(8), Buffer.from("x"), 3n);
    await turn();
    void link.send(key(7), Buffer.from("x"), 4n);
    const first = (await link.next()) as IteratorYieldResult<LinkEvent>;
    const second = (await link.next()) as IteratorYieldResult<LinkEvent>;
    expect([sentIds(first.value), sentIds(second.value)]).toEqual([[1n, 2n, 4n], [3n]]);
  });

  it("reports at once, before the turn ends, when a peer's written frames reach SENT_REPORT_FLUSH_BYTES", async () => {
    const link = writingLink();
    let turnEnded = false;
    setImmediate(() => (turnEnded = true));
    void link.send(key(7), Buffer.from("x"), 1n);
    void link.send(key(7), Buffer.alloc(SENT_REPORT_FLUSH_BYTES), 2n);
    const { value } = (await link.next()) as IteratorYieldResult<LinkEvent>;
    expect(turnEnded).toBe(false);
    expect(sentIds(value)).toEqual([1n, 2n]);
  });

  it("a peer's disconnect comes after the reports of the frames written to it before, without waiting out the fold", async () => {
    const link = writingLink();
    let turnEnded = false;
    setImmediate(() => (turnEnded = true));
    for (const id of [1n, 2n]) void link.send(key(7), Buffer.from("x"), id);
    await Promise.resolve();
    link.deliver({ kind: "disconnected", publicKey: key(7), code: "closed", message: "gone" });
    const first = (await link.next()) as IteratorYieldResult<LinkEvent>;
    const second = (await link.next()) as IteratorYieldResult<LinkEvent>;
    expect(turnEnded).toBe(false);
    expect([sentIds(first.value), sentIds(second.value)]).toEqual([[1n, 2n], "disconnected"]);
  });
});
