import { create, toJson } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { AsyncQueue, backoffCeiling, type Clock, type Logger, type TimerHandle } from "@jarvis/core";
import { NetworkService, LinkRequestSchema, type LinkRequest, type LinkResponse } from "@jarvis/proto/jarvis/network/v1/network_service";
import { PeerState, PeerStatsSchema } from "@jarvis/proto/jarvis/network/v1/peer";
import type { NetworkPeer, PeerNetwork, PeerNetworkEvents } from "./src/peer-network.js";

const MAX_LINK_BACKLOG = 20_000;
const RECONNECT = { baseMs: 100, factor: 2, capMs: 2_000 };

const STATE: Record<number, NetworkPeer["state"]> = {
  [PeerState.CONNECTED]: "connected",
  [PeerState.CONNECTING]: "connecting",
  [PeerState.DISCONNECTED]: "disconnected",
};

/**
 * The session's side of the network service: unary control calls plus one long-lived Link.
 * When the network process goes away (crash, restart) the Link ends; we keep retrying and,
 * once it answers again, report linkUp so the session re-configures it from scratch.
 */
export class GrpcPeerNetwork implements PeerNetwork {
  #client: Client<typeof NetworkService>;
  #clock: Clock;
  #log: Logger;
  #events: PeerNetworkEvents | undefined;
  #outbound: AsyncQueue<LinkRequest> | undefined;
  #available = false;
  #stopped = false;
  #attempt = 0;
  #retryTimer: TimerHandle | undefined;
  #abort = new AbortController();
  #running: Promise<void> | undefined;

  constructor(transport: Transport, clock: Clock, logger: Logger) {
    this.#client = createClient(NetworkService, transport);
    this.#clock = clock;
    this.#log = logger;
  }

  get available(): boolean {
    return this.#available;
  }

  start(): void {
    this.#running = this.#runLink();
  }

  setEventHandler(events: PeerNetworkEvents | undefined): void {
    this.#events = events;
  }

  async configure(privateKey: Buffer, listen: string, allowed: Buffer[]): Promise<string> {
    const response = await this.#client.configure({ staticPrivateKey: Buffer.from(privateKey), listenAddress: listen, allowedPeerKeys: allowed });
    return response.listenAddress;
  }

  async unconfigure(): Promise<void> {
    if (this.#available) await this.#client.unconfigure({});
  }

  async setAllowed(keys: Buffer[]): Promise<void> {
    await this.#client.setAllowedPeers({ publicKeys: keys });
  }

  async dial(publicKey: Buffer, addresses: string[]): Promise<void> {
    await this.#client.dial({ publicKey, addresses });
  }

  async disconnect(publicKey: Buffer): Promise<void> {
    await this.#client.disconnect({ publicKey });
  }

  send(publicKey: Buffer, payload: Uint8Array): boolean {
    const outbound = this.#outbound;
    if (!outbound || !this.#available || outbound.size >= MAX_LINK_BACKLOG) return false;
    outbound.push(create(LinkRequestSchema, { body: { case: "frame", value: { publicKey, payload } } }));
    return true;
  }

  async listPeers(): Promise<NetworkPeer[]> {
    const { peers } = await this.#client.listPeers({});
    return peers.map((p) => ({
      publicKey: Buffer.from(p.publicKey),
      state: STATE[p.state] ?? "disconnected",
      address: p.address,
      stats: p.stats ? (toJson(PeerStatsSchema, p.stats) as Record<string, unknown>) : {},
    }));
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#retryTimer?.cancel();
    this.#abort.abort();
    this.#outbound?.end();
    await this.#running;
  }

  async #runLink(): Promise<void> {
    while (!this.#stopped) {
      const outbound = new AsyncQueue<LinkRequest>();
      try {
        await this.#client.getStatus({}, { signal: this.#abort.signal });
        const responses = this.#client.link(outbound, { signal: this.#abort.signal });
        this.#outbound = outbound;
        this.#available = true;
        this.#attempt = 0;
        this.#log.info({}, "linked to network service");
        this.#events?.linkUp();
        for await (const response of responses) this.#dispatch(response.body);
      } catch (error) {
        if (!this.#stopped) this.#log.debug({ err: error }, "network link failed");
      } finally {
        outbound.end();
        this.#outbound = undefined;
        if (this.#available) {
          this.#available = false;
          this.#events?.linkDown();
        }
      }
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        this.#retryTimer = this.#clock.setTimeout(resolve, backoffCeiling(RECONNECT, this.#attempt++));
      });
    }
  }

  #dispatch(body: LinkResponse["body"]): void {
    const events = this.#events;
    if (!events) return;
    switch (body.case) {
      case "frame":
        events.frame(Buffer.from(body.value.publicKey), Buffer.from(body.value.payload));
        break;
      case "peerConnected":
        events.peerConnected(Buffer.from(body.value.publicKey));
        break;
      case "peerDisconnected":
        events.peerDisconnected(Buffer.from(body.value.publicKey), body.value.errorCode);
        break;
      case "frameDropped":
        events.frameDropped(Buffer.from(body.value.publicKey), body.value.errorCode);
        break;
      default:
        break;
    }
  }
}
