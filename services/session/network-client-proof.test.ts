import { afterEach, describe, expect, it, vi } from "vitest";
import { createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { AsyncQueue, FakeClock, silentLogger } from "@jarvis/core";
import { UnprovenServerError, ipcProof } from "@jarvis/rpc";
import { NetworkService, type LinkResponse } from "@jarvis/proto/jarvis/network/v1/network_service";
import { randomBytes } from "node:crypto";
import { GrpcPeerNetwork } from "./network-client.js";

// TCP IPC mode (ipcToken set): the token is attached per call, and only after the server proved
// it knows it. A NetworkService on the in-memory router records every call and its headers.

const TOKEN = "profile-ipc-token";
const started: GrpcPeerNetwork[] = [];
afterEach(async () => {
  for (const network of started.splice(0)) await network.close();
});

class RecordingNetwork {
  knowsToken = false;
  calls: { method: string; authorization: string | null }[] = [];
  keys: Uint8Array[] = [];

  routes = (router: ConnectRouter) =>
    router.service(NetworkService, {
      authenticate: (req, ctx) => {
        this.#note("authenticate", ctx.requestHeader);
        const serverNonce = randomBytes(32);
        return { serverNonce, proof: this.knowsToken ? ipcProof(TOKEN, req.clientNonce, serverNonce) : randomBytes(32) };
      },
      getStatus: (_req, ctx) => (this.#note("getStatus", ctx.requestHeader), {}),
      configure: (req, ctx) => {
        this.#note("configure", ctx.requestHeader);
        this.keys.push(Uint8Array.from(req.staticPrivateKey));
        return { listenAddress: "127.0.0.1:1" };
      },
      dial: (_req, ctx) => (this.#note("dial", ctx.requestHeader), {}),
      link: (_requests, ctx) => {
        this.#note("link", ctx.requestHeader);
        const replies = new AsyncQueue<LinkResponse>();
        ctx.signal.addEventListener("abort", () => replies.end(), { once: true });
        return replies;
      },
    });

  #note(method: string, headers: Headers): void {
    this.calls.push({ method, authorization: headers.get("authorization") });
  }
}

function start(fake: RecordingNetwork, clock: FakeClock) {
  const network = new GrpcPeerNetwork(createRouterTransport(fake.routes), clock, silentLogger, {
    ipcToken: TOKEN,
    reconnect: { baseMs: 100, factor: 2, capMs: 400, jitter: "none" },
  });
  started.push(network);
  network.start();
  return network;
}

describe("GrpcPeerNetwork in TCP IPC mode", () => {
  it("sends nothing but proof requests to a server that cannot prove the token, and refuses to configure it", async () => {
    const fake = new RecordingNetwork();
    const clock = new FakeClock();
    const network = start(fake, clock);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await vi.waitFor(() => expect(fake.calls).toHaveLength(attempt), { timeout: 5_000, interval: 2 });
      clock.advance(400);
    }
    expect(network.available).toBe(false);
    expect(network.linkError).toBeInstanceOf(UnprovenServerError);
    await expect(network.configure(Buffer.alloc(32, 7), "127.0.0.1:0", [])).rejects.toBeInstanceOf(UnprovenServerError);
    await expect(network.dial(Buffer.alloc(32, 1), ["10.0.0.1:5000"])).rejects.toBeInstanceOf(UnprovenServerError);
    expect(fake.calls.every((c) => c.method === "authenticate" && c.authorization === null)).toBe(true);
    expect(fake.keys).toEqual([]);
  });

  it("links once the server proves itself, and only then sends the token (control)", async () => {
    const fake = new RecordingNetwork();
    const clock = new FakeClock();
    fake.knowsToken = true;
    const network = start(fake, clock);
    await vi.waitFor(() => expect(network.available).toBe(true), { timeout: 5_000, interval: 2 });
    await network.configure(Buffer.alloc(32, 7), "127.0.0.1:0", []);
    expect(fake.calls.map((c) => c.method)).toEqual(["authenticate", "getStatus", "link", "configure"]);
    expect(fake.calls.map((c) => c.authorization)).toEqual([null, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(fake.keys).toEqual([Uint8Array.from(Buffer.alloc(32, 7))]);
    expect(network.linkError).toBeUndefined();
  });
});
