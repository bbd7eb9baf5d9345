import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { AddressInfo, Socket } from "node:net";

interface SocketMessage {
  socket: Socket;
}

/**
 * Collects the sockets one node under test owns, and only those — not the process's (the test
 * runner's, other nodes', the test's own) — through Node's net diagnostics channels:
 *  - accepted: every connection accepted by a listener on `listenPort`;
 *  - dialled: every socket created synchronously inside `dialling(...)`, where the node's dial
 *    opens its socket before its first await.
 * A node leaks a socket exactly when one of these is still open after the node has closed.
 */
export class NodeSocketTracker {
  readonly sockets = new Set<Socket>();
  #listenPort: number;
  #dialling = false;
  #onAccepted = (message: unknown) => {
    const { socket } = message as SocketMessage;
    const server = (socket as Socket & { server?: { address(): AddressInfo | string | null } }).server;
    const address = server?.address();
    if (typeof address === "object" && address?.port === this.#listenPort) this.sockets.add(socket);
  };
  #onDialled = (message: unknown) => {
    if (this.#dialling) this.sockets.add((message as SocketMessage).socket);
  };

  constructor(listenPort: number) {
    this.#listenPort = listenPort;
    subscribe("net.server.socket", this.#onAccepted);
    subscribe("net.client.socket", this.#onDialled);
  }

  /** Runs `dial` and counts every socket it opens as the node's. */
  dialling<T>(dial: () => T): T {
    this.#dialling = true;
    try {
      return dial();
    } finally {
      this.#dialling = false;
    }
  }

  /** The node's sockets not yet closed. */
  open(): Socket[] {
    return [...this.sockets].filter((socket) => !socket.closed);
  }

  stop(): void {
    unsubscribe("net.server.socket", this.#onAccepted);
    unsubscribe("net.client.socket", this.#onDialled);
  }
}
