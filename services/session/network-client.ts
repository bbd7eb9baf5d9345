import { create } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import { AsyncQueue, Backoff, sleep, type BackoffPolicy, type Clock, type Logger } from "@jarvis/core";
import { UnprovenServerError, requireIpcProof } from "@jarvis/rpc";
import {
  NetworkService,
  LinkRequestSchema,
  OutboundFrameSchema,
  OutboundFrameBatchSchema,
  type LinkRequest,
  type LinkResponse,
  type OutboundFrame,
} from "@jarvis/proto/jarvis/network/v1/network_service";
import type { FrameOutcome, NetworkPeer, PeerNetwork, PeerNetworkEvents } from "./src/peer-network.js";
import { STATE, toHealth } from "./network-peer-view.js";
import { SendWindows } from "./send-windows.js";

const linkRequest = (body: LinkRequest["body"]): LinkRequest => ({ $typeName: LinkRequestSchema.typeName, body });

export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 100, factor: 2, capMs: 2_000 };

export interface GrpcPeerNetworkOptions {
  /** Unanswered bytes allowed in flight per peer (default SendWindows' 1 MiB). */
  windowBytes?: number;
  reconnect?: BackoffPolicy;
  /**
   * TCP IPC: the profile's bearer token. The transport must not carry it: it is attached per
   * call, and only once the server has proved it knows the token (Authenticate), so a process
   * that took the network's port first learns neither the token nor the static key, nor whom we
   * dial. Absent over a Unix socket, where the 0700 run directory is the proof.
   */
  ipcToken?: string;
}

/**
 * The session's side of the network service: unary control calls plus one long-lived Link.
 * Each frame carries an id the network answers with FramesSent or FrameDropped; a per-peer
 * window of unanswered bytes makes send() wait, so a slow peer holds back only its own sender.
 * Inbound, the Link is read no faster than the session handles frames. When the network
 * process goes away the Link ends; we retry with backoff and report linkUp once it answers.
 */
export class GrpcPeerNetwork implements PeerNetwork {
  #client: Client<typeof NetworkService>;
  #clock: Clock;
  #log: Logger;
  #events: PeerNetworkEvents | undefined;
  #outbound: AsyncQueue<LinkRequest> | undefined;
  #windows: SendWindows;
  #reconnect: BackoffPolicy;
  #stopped = false;
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  #token: string | undefined;
  /** Set while the current server has proved itself; cleared whenever the link goes down. */
  #proven = false;
  #linkError: Error | undefined;
  /** The network takes OutboundFrameBatch (GetStatusResponse.link_frame_batches). */
  #batching = false;
  /** Frames sent in the current job, flushed as one Link message at the end of it. */
  #batch: OutboundFrame[] = [];

  constructor(transport: Transport, clock: Clock, logger: Logger, options: GrpcPeerNetworkOptions = {}) {
    this.#client = createClient(NetworkService, transport);
    this.#clock = clock;
    this.#log = logger;
    this.#windows = new SendWindows(options.windowBytes);
    this.#reconnect = options.reconnect ?? RECONNECT_BACKOFF;
    this.#token = options.ipcToken;
  }

  /** Why the link is down (e.g. an UnprovenServerError), for status and diagnostics. */
  get linkError(): Error | undefined {
    return this.#linkError;
  }

  get available(): boolean {
    return this.#outbound !== undefined;
  }

  /** Unanswered bytes to one peer (for tests and diagnostics). */
  inFlightBytes(publicKey: Buffer): number {
    return this.#windows.inFlight(publicKey.toString("hex"));
  }

  start(): void {
    this.#running = this.#runLink();
  }

  setEventHandler(events: PeerNetworkEvents | undefined): void {
    this.#events = events;
  }

  async configure(privateKey: Buffer, listen: string, allowed: Buffer[]): Promise<string> {
    const options = this.#callOptions();
    const response = await this.#client.configure({ staticPrivateKey: Buffer.from(privateKey), listenAddress: listen, allowedPeerKeys: allowed }, options);
    return response.listenAddress;
  }

  async unconfigure(): Promise<void> {
    if (this.available) await this.#client.unconfigure({}, this.#callOptions());
  }

  async setAllowed(keys: Buffer[]): Promise<void> {
    await this.#client.setAllowedPeers({ publicKeys: keys }, this.#callOptions());
  }

  async dial(publicKey: Buffer, addresses: string[]): Promise<void> {
    await this.#client.dial({ publicKey, addresses }, this.#callOptions());
  }

  async disconnect(publicKey: Buffer): Promise<void> {
    await this.#client.disconnect({ publicKey }, this.#callOptions());
  }

  send(publicKey: Buffer, payload: Uint8Array, onOutcome?: (outcome: FrameOutcome) => void, channelId = 0n): void | Promise<void> {
    if (!this.#outbound) return void onOutcome?.({ sent: false, code: "link-down" });
    // A frame nobody waits on (an ack, a hello) goes with frame_id 0: no report comes back, so
    // the network does not wake us once per ack. Without reports the window cannot count it;
    // it is small (one per stored batch), and if the network stops reading the Link, HTTP/2 flow
    // control holds it here as the window would have.
    if (!onOutcome) return this.#push({ $typeName: OutboundFrameSchema.typeName, publicKey, payload, frameId: 0n, channelId });
    // Synchronous when the window has room: a just-committed message's frame is queued for the
    // Link before the job goes on to answer the client, so it is not written behind that answer.
    const peer = publicKey.toString("hex");
    return this.#windows.reserve(peer, payload.length, () => this.#sendReserved(peer, publicKey, payload, onOutcome, channelId));
  }

  #sendReserved(peer: string, publicKey: Buffer, payload: Uint8Array, onOutcome: (outcome: FrameOutcome) => void, channelId: bigint): void {
    // The link may have gone down while the frame waited for room.
    if (!this.#outbound) {
      this.#windows.release(peer, payload.length);
      return void onOutcome({ sent: false, code: "link-down" });
    }
    const frameId = this.#windows.track(peer, payload.length, onOutcome);
    // Complete messages, not init shapes: create() (here and in connect's normalize) walks the
    // descriptor for an init shape, and this runs once per frame.
    this.#push({ $typeName: OutboundFrameSchema.typeName, publicKey, payload, frameId, channelId });
  }

  #push(frame: OutboundFrame): void {
    const outbound = this.#outbound;
    if (!outbound) return;
    if (!this.#batching) return void outbound.push(linkRequest({ case: "frame", value: frame }));
    this.#batch.push(frame);
    // Flushed once the current job and its microtasks are done — a commit hands every new entry
    // over in one job, so they travel together — without waiting for the rest of the turn.
    if (this.#batch.length === 1) process.nextTick(() => this.#flushBatch(outbound));
  }

  /** One Link message for every frame of the turn; frames of a link that went down are already settled as dropped. */
  #flushBatch(outbound: AsyncQueue<LinkRequest>): void {
    const frames = this.#batch;
    this.#batch = [];
    if (outbound !== this.#outbound || frames.length === 0) return;
    if (frames.length === 1) outbound.push(linkRequest({ case: "frame", value: frames[0] as OutboundFrame }));
    else outbound.push(linkRequest({ case: "frames", value: { $typeName: OutboundFrameBatchSchema.typeName, frames } }));
  }

  async listPeers(): Promise<NetworkPeer[]> {
    const { peers } = await this.#client.listPeers({}, this.#callOptions());
    return peers.map((p) => ({
      publicKey: Buffer.from(p.publicKey),
      state: STATE[p.state] ?? "disconnected",
      address: p.address,
      health: p.stats ? toHealth(p.stats) : undefined,
    }));
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    this.#outbound?.end();
    await this.#running;
  }

  async #runLink(): Promise<void> {
    const backoff = new Backoff(this.#reconnect);
    while (!this.#stopped) {
      const outbound = new AsyncQueue<LinkRequest>();
      try {
        await this.#proveServer();
        const status = await this.#client.getStatus({}, this.#callOptions(this.#abort.signal));
        this.#batching = status.linkFrameBatches;
        this.#batch = [];
        if (this.#batching) outbound.push(create(LinkRequestSchema, { body: { case: "options", value: { inboundFrameBatches: true } } }));
        const responses = this.#client.link(outbound, this.#callOptions(this.#abort.signal));
        this.#outbound = outbound;
        this.#linkError = undefined;
        backoff.reset();
        this.#log.info({}, "linked to network service");
        this.#events?.linkUp();
        for await (const response of responses) {
          // Awaiting a busy session here is the back-pressure: HTTP/2 flow control does the rest.
          const behind = this.#dispatch(response.body);
          if (behind) await behind;
        }
      } catch (error) {
        if (!this.#stopped) this.#noteLinkFailure(error);
      } finally {
        this.#proven = false;
        outbound.end();
        const wasUp = this.#outbound !== undefined;
        this.#outbound = undefined;
        this.#windows.dropAll("link-down");
        if (wasUp) this.#events?.linkDown();
      }
      if (this.#stopped) break;
      await sleep(this.#clock, backoff.next(), this.#abort.signal).catch(() => undefined);
    }
  }

  /**
   * TCP mode: asks the server to prove it knows the token (HMAC over our fresh nonce and its
   * own) before anything secret is sent. A server that cannot is not ours, or not ready; we
   * keep retrying with backoff, because the real network service may come up later.
   */
  async #proveServer(): Promise<void> {
    if (this.#token === undefined) return;
    await requireIpcProof(this.#token, (clientNonce) => this.#client.authenticate({ clientNonce }, { signal: this.#abort.signal }));
    this.#proven = true;
  }

  /** Every call but Authenticate carries the token, and only to a server that proved itself. */
  #callOptions(signal?: AbortSignal): CallOptions {
    if (this.#token === undefined) return { signal };
    if (!this.#proven) throw new UnprovenServerError("the network service has not proved itself yet; nothing was sent to it");
    return { signal, headers: { authorization: `Bearer ${this.#token}` } };
  }

  #noteLinkFailure(error: unknown): void {
    const first = !(this.#linkError instanceof UnprovenServerError);
    this.#linkError = error instanceof Error ? error : new Error(String(error));
    // A squatter on our port is worth one warning per episode, not one per retry.
    if (error instanceof UnprovenServerError && first) this.#log.warn({ code: error.code }, error.message);
    else this.#log.debug({ err: error }, "network link failed");
  }

  #dispatch(body: LinkResponse["body"]): void | Promise<void> {
    switch (body.case) {
      case "framesSent": {
        const peer = Buffer.from(body.value.publicKey).toString("hex");
        for (const id of body.value.frameIds) this.#windows.settle(peer, id, { sent: true });
        return;
      }
      case "frameDropped":
        // frame_id 0: a frame sent without a report (or an older network); nothing to settle.
        this.#windows.settle(Buffer.from(body.value.publicKey).toString("hex"), body.value.frameId, { sent: false, code: body.value.errorCode || "dropped" });
        return;
      case "peerDisconnected":
        // Whatever was not reported written by now will not be; the outbox resends it.
        this.#windows.dropPeer(Buffer.from(body.value.publicKey).toString("hex"), "peer-disconnected");
        this.#events?.peerDisconnected(Buffer.from(body.value.publicKey), body.value.errorCode);
        return;
      case "peerConnected":
        this.#events?.peerConnected(Buffer.from(body.value.publicKey), body.value.channelId);
        return;
      case "frame":
        return this.#events?.frame(Buffer.from(body.value.publicKey), Buffer.from(body.value.payload));
      case "frames": {
        // Handled in order; if the session asks us to wait, the last frame's wait covers them all.
        let behind: void | Promise<void> = undefined;
        for (const frame of body.value.frames) behind = this.#events?.frame(Buffer.from(frame.publicKey), Buffer.from(frame.payload)) ?? behind;
        return behind;
      }
      default:
        return;
    }
  }
}
