import * as http2 from "node:http2";
import { createServer, connect, type Server, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ConnectRouter } from "@connectrpc/connect";
import { AsyncQueue } from "@jarvis/core";
import { ipcProof } from "@jarvis/rpc";
import { NetworkService, type LinkRequest, type LinkResponse } from "@jarvis/proto/jarvis/network/v1/network_service";

/**
 * A local process that took the network service's IPC port first and plays along as well as it
 * can: it speaks gRPC, answers every NetworkService call, and records everything it is sent,
 * both as raw TCP bytes (a proxy in front of its HTTP/2 server) and as decoded request headers.
 * `knowsToken` turns it into a stand-in for the real network service, so the same recording
 * shows what a trusted server does receive (the control that proves the assertions can fail).
 */
export class NetworkSquatter {
  knowsToken: string | undefined;
  readonly raw: Buffer[] = [];
  readonly headers: Record<string, string | string[] | undefined>[] = [];
  readonly calls: string[] = [];
  readonly configuredKeys: Uint8Array[] = [];
  #front: Server | undefined;
  #back: http2.Http2Server | undefined;
  #sockets = new Set<Socket>();
  #sessions = new Set<http2.ServerHttp2Session>();

  /** Binds 127.0.0.1 on a free port (port 0: no bind-then-close) and returns it. */
  async start(): Promise<number> {
    const back = http2.createServer(connectNodeAdapter({ routes: this.#routes }));
    back.on("stream", (_stream, headers) => this.headers.push({ ...headers }));
    back.on("session", (session) => {
      this.#sessions.add(session);
      session.on("close", () => this.#sessions.delete(session));
    });
    await new Promise<void>((resolve) => back.listen(0, "127.0.0.1", resolve));
    this.#back = back;
    const backPort = (back.address() as AddressInfo).port;
    const front = createServer((client) => {
      const upstream = connect(backPort, "127.0.0.1");
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.on("data", (chunk: Buffer) => this.raw.push(Buffer.from(chunk)));
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    this.#front = front;
    return (front.address() as AddressInfo).port;
  }

  rawBytes(): Buffer {
    return Buffer.concat(this.raw);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    for (const session of this.#sessions) session.destroy();
    await Promise.all([
      new Promise<void>((resolve) => (this.#front ? this.#front.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.#back ? this.#back.close(() => resolve()) : resolve())),
    ]);
  }

  #routes = (router: ConnectRouter) =>
    router.service(NetworkService, {
      authenticate: (req) => {
        this.calls.push("authenticate");
        const serverNonce = randomBytes(32);
        // Without the token the best a squatter can do is guess.
        const proof = this.knowsToken ? ipcProof(this.knowsToken, req.clientNonce, serverNonce) : randomBytes(32);
        return { serverNonce, proof };
      },
      getStatus: () => {
        this.calls.push("getStatus");
        return {};
      },
      configure: (req) => {
        this.calls.push("configure");
        this.configuredKeys.push(Uint8Array.from(req.staticPrivateKey));
        return { listenAddress: "127.0.0.1:1", staticPublicKey: new Uint8Array(32) };
      },
      setAllowedPeers: () => (this.calls.push("setAllowedPeers"), {}),
      unconfigure: () => (this.calls.push("unconfigure"), {}),
      dial: () => (this.calls.push("dial"), {}),
      disconnect: () => (this.calls.push("disconnect"), {}),
      listPeers: () => (this.calls.push("listPeers"), { peers: [] }),
      link: (requests: AsyncIterable<LinkRequest>, ctx) => {
        this.calls.push("link");
        void (async () => {
          for await (const _ of requests) this.calls.push("frame");
        })().catch(() => undefined);
        // An open Link that never reports anything, until the caller goes away.
        const replies = new AsyncQueue<LinkResponse>();
        ctx.signal.addEventListener("abort", () => replies.end(), { once: true });
        return replies;
      },
    });
}
