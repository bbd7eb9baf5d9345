import { afterEach, describe, expect, it, vi } from "vitest";
import { Code, ConnectError, createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { AsyncQueue, FakeClock, silentLogger } from "@jarvis/core";
import { NetworkService, type LinkRequest, type LinkResponseSchema, type OutboundFrame } from "@jarvis/proto/jarvis/network/v1/network_service";
import { GrpcPeerNetwork } from "./network-client.js";
import type { FrameOutcome, PeerNetworkEvents } from "./src/peer-network.js";

type Reply = MessageInitShape<typeof LinkResponseSchema>;

/** A NetworkService whose Link the test drives: it sees every frame and says what happened. */
class FakeNetworkService {
  statusFailures = 0;
  statusCalls = 0;
  /** GetStatus says the network takes OutboundFrameBatch. */
  batches = false;
  frames: OutboundFrame[] = [];
  /** Frames per Link message, in arrival order. */
  messages: number[] = [];
  #replies: AsyncQueue<Reply> | undefined;

  routes = (router: ConnectRouter) =>
    router.service(NetworkService, {
      getStatus: () => {
        this.statusCalls++;
        if (this.statusFailures > 0) {
          this.statusFailures--;
          throw new ConnectError("network service not up yet", Code.Unavailable);
        }
        return { linkFrameBatches: this.batches };
      },
      link: (requests: AsyncIterable<LinkRequest>) => {
        const replies = new AsyncQueue<Reply>();
        this.#replies = replies;
        void (async () => {
          for await (const request of requests) {
            if (request.body.case === "frame") this.frames.push(request.body.value);
            if (request.body.case === "frames") this.frames.push(...request.body.value.frames);
            if (request.body.case === "frame" || request.body.case === "frames") this.messages.push(request.body.case === "frame" ? 1 : request.body.value.frames.length);
          }
        })().catch(() => undefined);
        return replies;
      },
    });

  reply(reply: Reply["body"]): void {
    this.#replies?.push({ body: reply });
  }

  endLink(): void {
    this.#replies?.end();
  }
}

const key = (n: number) => Buffer.alloc(32, n);
const tick = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};
const waitFor = <T>(fn: () => T) => vi.waitFor(fn, { timeout: 5_000, interval: 2 });

const started: GrpcPeerNetwork[] = [];
afterEach(async () => {
  for (const network of started.splice(0)) await network.close();
});

function events(overrides: Partial<PeerNetworkEvents> = {}) {
  const log: string[] = [];
  const handler: PeerNetworkEvents = {
    linkUp: () => log.push("up"),
    linkDown: () => log.push("down"),
    peerConnected: () => log.push("connected"),
    peerDisconnected: () => log.push("disconnected"),
    frame: () => undefined,
    ...overrides,
  };
  return { log, handler };
}

function start(fake: FakeNetworkService, options: { clock?: FakeClock; windowBytes?: number } = {}) {
  const transport = createRouterTransport(fake.routes);
  const network = new GrpcPeerNetwork(transport, options.clock ?? new FakeClock(), silentLogger, {
    windowBytes: options.windowBytes,
    reconnect: { baseMs: 100, factor: 2, capMs: 400, jitter: "none" },
  });
  started.push(network);
  return network;
}

/** Calls `onHanded(frames)` whenever a Link message with frames is handed to the stream (until vi.restoreAllMocks). */
function watchLinkMessages(onHanded: (frames: number) => void): void {
  const original = AsyncQueue.prototype.push;
  vi.spyOn(AsyncQueue.prototype, "push").mockImplementation(function (this: AsyncQueue<unknown>, item: unknown) {
    const body = (item as Partial<LinkRequest>).body;
    if (body?.case === "frame" || body?.case === "frames") onHanded(body.case === "frame" ? 1 : body.value.frames.length);
    original.call(this, item);
  });
}

describe("GrpcPeerNetwork against a NetworkService on the in-memory router transport", () => {
  it("with batches, the frames of one job leave as one Link message before the turn ends, and a lone frame leaves alone", async () => {
    const fake = new FakeNetworkService();
    fake.batches = true;
    const network = start(fake);
    const { log, handler } = events();
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(log).toEqual(["up"]));
    // When each outbound Link message is handed to the stream: before or after the turn ended.
    const handed: string[] = [];
    let turnEnded = false;
    watchLinkMessages((frames) => handed.push(`${frames}${turnEnded ? " after the turn" : ""}`));
    try {
      setImmediate(() => (turnEnded = true));
      for (let i = 0; i < 5; i++) void network.send(key(1), Buffer.from(`together ${i}`));
      await tick(1);
      turnEnded = false;
      setImmediate(() => (turnEnded = true));
      void network.send(key(1), Buffer.from("alone"));
      await waitFor(() => expect(fake.frames).toHaveLength(6));
    } finally {
      vi.restoreAllMocks();
    }
    expect(handed).toEqual(["5", "1"]);
    expect(fake.messages).toEqual([5, 1]);
    expect(fake.frames.map((f) => Buffer.from(f.payload).toString())).toEqual([0, 1, 2, 3, 4].map((i) => `together ${i}`).concat("alone"));
  });

  it("queues a frame that fits for the Link before the sending job goes on to its promise callbacks (a client's answer)", async () => {
    const fake = new FakeNetworkService();
    fake.batches = true;
    const network = start(fake);
    const { log, handler } = events();
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(log).toEqual(["up"]));
    const order: string[] = [];
    watchLinkMessages(() => order.push("handed to the Link"));
    let returned: unknown;
    try {
      // A job of its own (as a group commit's is): its nextTicks run before its promise callbacks.
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          returned = network.send(key(1), Buffer.from("just committed"), () => {});
          void Promise.resolve().then(() => order.push("answer the client"));
          setImmediate(resolve);
        }),
      );
    } finally {
      vi.restoreAllMocks();
    }
    // Nothing to wait for: the window had room.
    expect(returned).toBeUndefined();
    expect(order).toEqual(["handed to the Link", "answer the client"]);
    await waitFor(() => expect(fake.frames).toHaveLength(1));
  });

  it("turns FramesSent and FrameDropped into each frame's outcome, once", async () => {
    const fake = new FakeNetworkService();
    const network = start(fake);
    const { log, handler } = events();
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(log).toEqual(["up"]));
    const outcomes: FrameOutcome[][] = [[], [], []];
    for (let i = 0; i < 3; i++) await network.send(key(1), Buffer.from(`frame ${i}`), (o) => outcomes[i]?.push(o));
    await waitFor(() => expect(fake.frames).toHaveLength(3));
    const ids = fake.frames.map((f) => f.frameId);
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain(0n);
    fake.reply({ case: "framesSent", value: { publicKey: key(1), frameIds: [ids[0] as bigint, ids[2] as bigint] } });
    fake.reply({ case: "frameDropped", value: { publicKey: key(1), frameId: ids[1] as bigint, errorCode: "no-channel" } });
    // A repeated report (or one for another peer) changes nothing.
    fake.reply({ case: "framesSent", value: { publicKey: key(1), frameIds: [ids[1] as bigint] } });
    fake.reply({ case: "framesSent", value: { publicKey: key(2), frameIds: [ids[0] as bigint] } });
    await waitFor(() => expect(outcomes.map((o) => o.length)).toEqual([1, 1, 1]));
    await tick();
    expect(outcomes).toEqual([[{ sent: true }], [{ sent: false, code: "no-channel" }], [{ sent: true }]]);
    expect(network.inFlightBytes(key(1))).toBe(0);
  });

  it("settles a disconnected peer's unanswered frames as dropped, and ignores the late report", async () => {
    const fake = new FakeNetworkService();
    const network = start(fake);
    const { log, handler } = events();
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(log).toEqual(["up"]));
    const outcomes: FrameOutcome[] = [];
    await network.send(key(1), Buffer.from("unanswered"), (o) => outcomes.push(o));
    await waitFor(() => expect(fake.frames).toHaveLength(1));
    fake.reply({ case: "peerDisconnected", value: { publicKey: key(1), errorCode: "closed" } });
    fake.reply({ case: "frameDropped", value: { publicKey: key(1), frameId: fake.frames[0]?.frameId ?? 0n, errorCode: "closed" } });
    await waitFor(() => expect(log).toEqual(["up", "disconnected"]));
    await tick();
    expect(outcomes).toEqual([{ sent: false, code: "peer-disconnected" }]);
    expect(network.inFlightBytes(key(1))).toBe(0);
  });

  it("makes send wait while one peer's window is full, without holding back other peers", async () => {
    const fake = new FakeNetworkService();
    const network = start(fake, { windowBytes: 100 });
    const { log, handler } = events();
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(log).toEqual(["up"]));
    const outcomes: FrameOutcome[] = [];
    const track = (outcome: FrameOutcome) => outcomes.push(outcome);
    await network.send(key(1), Buffer.alloc(60), track);
    let secondQueued = false;
    const second = network.send(key(1), Buffer.alloc(60), track).then(() => (secondQueued = true));
    await network.send(key(2), Buffer.alloc(60), track); // another peer: not blocked
    await waitFor(() => expect(fake.frames).toHaveLength(2));
    await tick();
    expect(secondQueued).toBe(false);
    expect(network.inFlightBytes(key(1))).toBe(60);
    fake.reply({ case: "framesSent", value: { publicKey: key(1), frameIds: [fake.frames[0]?.frameId as bigint] } });
    await second;
    await waitFor(() => expect(fake.frames).toHaveLength(3));
    expect(fake.frames.map((f) => Buffer.from(f.publicKey)[0])).toEqual([1, 2, 1]);
    expect(outcomes).toEqual([{ sent: true }]);
  });

  it("sends a frame nobody waits on (an ack) with frame id 0, past a full window, and expects no report for it", async () => {
    const fake = new FakeNetworkService();
    const network = start(fake, { windowBytes: 100 });
    const { log, handler } = events();
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(log).toEqual(["up"]));
    await network.send(key(1), Buffer.alloc(90), () => {});
    // The window is full for tracked frames; an untracked one still goes, and is not counted.
    await network.send(key(1), Buffer.from("ack"));
    await waitFor(() => expect(fake.frames).toHaveLength(2));
    expect(fake.frames.map((f) => f.frameId)).toEqual([1n, 0n]);
    expect(Buffer.from(fake.frames[1]?.payload ?? []).toString()).toBe("ack");
    expect(network.inFlightBytes(key(1))).toBe(90);
  });

  it("reads the Link no faster than the session handles frames", async () => {
    const fake = new FakeNetworkService();
    const network = start(fake);
    const handled: string[] = [];
    let release = () => {};
    const { log, handler } = events({
      frame: (_key, payload) => {
        handled.push(payload.toString());
        if (handled.length === 1) return new Promise<void>((resolve) => (release = resolve));
        return undefined;
      },
    });
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(log).toEqual(["up"]));
    for (const text of ["a", "b", "c"]) fake.reply({ case: "frame", value: { publicKey: key(1), payload: Buffer.from(text) } });
    await waitFor(() => expect(handled).toEqual(["a"]));
    await tick();
    expect(handled).toEqual(["a"]);
    release();
    await waitFor(() => expect(handled).toEqual(["a", "b", "c"]));
  });

  it("reconnects with backoff on the clock, and reports in-flight frames dropped when the link goes down", async () => {
    const clock = new FakeClock();
    const fake = new FakeNetworkService();
    fake.statusFailures = 2;
    const network = start(fake, { clock });
    const { log, handler } = events();
    network.setEventHandler(handler);
    network.start();
    await waitFor(() => expect(fake.statusCalls).toBe(1));
    clock.advance(99);
    await tick();
    expect(fake.statusCalls).toBe(1);
    clock.advance(1); // first delay: 100 ms
    await waitFor(() => expect(fake.statusCalls).toBe(2));
    clock.advance(199);
    await tick();
    expect(fake.statusCalls).toBe(2);
    clock.advance(1); // second delay: 200 ms
    await waitFor(() => expect(log).toEqual(["up"]));
    expect(network.available).toBe(true);

    const outcomes: FrameOutcome[] = [];
    await network.send(key(1), Buffer.from("in flight"), (o) => outcomes.push(o));
    await waitFor(() => expect(fake.frames).toHaveLength(1));
    fake.endLink();
    await waitFor(() => expect(log).toEqual(["up", "down"]));
    expect(outcomes).toEqual([{ sent: false, code: "link-down" }]);
    expect(network.available).toBe(false);
    await network.send(key(1), Buffer.from("while down"), (o) => outcomes.push(o));
    expect(outcomes).toEqual([{ sent: false, code: "link-down" }, { sent: false, code: "link-down" }]);
    // A successful link reset the backoff: the first delay again.
    clock.advance(100);
    await waitFor(() => expect(log).toEqual(["up", "down", "up"]));
  });
});
