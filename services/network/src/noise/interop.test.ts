import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createConnection, createServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { beforeAll, describe, expect, it } from "vitest";

import { encodeFrame, FrameDecoder } from "../framing/frame-decoder.js";
import { XXHandshake } from "./handshake.js";
import { generateKeyPair } from "./keys.js";
import type { KeyPair } from "./keys.js";

// Live interop against dissononce (Debian python3-dissononce), an independent
// Noise implementation, over real loopback TCP. Debian's interpreter is used on
// purpose: the python3 on PATH may be another installation without the package.
const PYTHON = "/usr/bin/python3";
const PEER_SCRIPT = fileURLToPath(new URL("../../../../test/python/noise_peer.py", import.meta.url));
const STEP_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 30_000;
const EMPTY = Buffer.alloc(0);

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS} ms waiting for ${what}`)), STEP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The Python peer process, with its `LABEL value` stdout lines made awaitable. */
class PythonPeer {
  readonly #child: ChildProcess;
  readonly #lines = new Map<string, string>();
  readonly #waiters = new Map<string, ((value: string) => void)[]>();
  readonly #exited: Promise<number | null>;
  #stderr = "";

  constructor(args: string[]) {
    this.#child = spawn(PYTHON, [PEER_SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    this.#child.stderr?.setEncoding("utf8").on("data", (text: string) => (this.#stderr += text));
    const stdout = this.#child.stdout;
    if (stdout === null) throw new Error("python peer has no stdout");
    createInterface({ input: stdout }).on("line", (line) => {
      const space = line.indexOf(" ");
      const label = space < 0 ? line : line.slice(0, space);
      const value = space < 0 ? "" : line.slice(space + 1);
      // HANDSHAKE_PAYLOAD lines carry their message number in the value.
      const key = label === "HANDSHAKE_PAYLOAD" ? `${label} ${value.split(" ")[0] ?? ""}` : label;
      const payload = label === "HANDSHAKE_PAYLOAD" ? (value.split(" ")[1] ?? "") : value;
      this.#lines.set(key, payload);
      for (const wake of this.#waiters.get(key) ?? []) wake(payload);
      this.#waiters.delete(key);
    });
    this.#exited = new Promise((resolve) => this.#child.once("exit", (code) => resolve(code)));
  }

  /** Resolves with the value of the first line labelled `key`; rejects if the peer exits first. */
  line(key: string): Promise<string> {
    const seen = this.#lines.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    const appeared = new Promise<string>((resolve) => {
      this.#waiters.set(key, [...(this.#waiters.get(key) ?? []), resolve]);
    });
    const died = this.#exited.then((code) => {
      // Lines can still be in flight when "exit" fires; give them precedence.
      const late = this.#lines.get(key);
      if (late !== undefined) return late;
      throw new Error(`python peer exited (${code}) before printing ${key}: ${this.#stderr.trim()}`);
    });
    return withTimeout(Promise.race([appeared, died]), `python ${key}`);
  }

  async exitCode(): Promise<number | null> {
    return withTimeout(this.#exited, "python peer to exit");
  }

  get stderr(): string {
    return this.#stderr;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGKILL");
    }
    await this.#exited;
  }
}

/** A socket carrying length-prefixed Noise messages, read one frame at a time. */
class FramedSocket {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder();
  readonly #frames: Buffer[] = [];
  #waiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const frame of this.#decoder.push(chunk)) this.#deliver(frame);
      } catch (error) {
        this.#fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on("error", (error) => this.#fail(error));
    socket.on("close", () => this.#fail(new Error("connection closed")));
  }

  send(message: Uint8Array): void {
    this.#socket.write(encodeFrame(message));
  }

  next(): Promise<Buffer> {
    const queued = this.#frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return withTimeout(
      new Promise<Buffer>((resolve, reject) => (this.#waiter = { resolve, reject })),
      "a frame from the python peer",
    );
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #deliver(frame: Buffer): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) this.#frames.push(frame);
    else waiter.resolve(frame);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }
}

interface TsOutcome {
  handshake: XXHandshake;
  /** Handshake payloads received, keyed by 1-based message number. */
  receivedPayloads: Map<number, string>;
  transportReceived: string;
}

/** Plays the TypeScript side: three XX messages, then greeting/reply as in noise_peer.py. */
async function runTsSide(channel: FramedSocket, staticKeyPair: KeyPair, prologue: Buffer, initiator: boolean): Promise<TsOutcome> {
  const handshake = new XXHandshake({ initiator, staticKeyPair, prologue });
  const receivedPayloads = new Map<number, string>();
  for (let index = 0; index < 3; index++) {
    if ((index % 2 === 0) === initiator) {
      channel.send(handshake.writeMessage(Buffer.from(`ts handshake payload ${index + 1}`)));
    } else {
      receivedPayloads.set(index + 1, handshake.readMessage(await channel.next()).toString());
    }
  }
  const { send, receive } = handshake.split();
  let transportReceived: string;
  if (initiator) {
    channel.send(send.encryptWithAd(EMPTY, Buffer.from("ping from ts")));
    transportReceived = receive.decryptWithAd(EMPTY, await channel.next()).toString();
  } else {
    transportReceived = receive.decryptWithAd(EMPTY, await channel.next()).toString();
    channel.send(send.encryptWithAd(EMPTY, Buffer.from(`pong from ts: ${transportReceived}`)));
  }
  return { handshake, receivedPayloads, transportReceived };
}

function pythonArgs(role: "initiator" | "responder", port: number, staticKeyPair: KeyPair, prologue: Buffer): string[] {
  return [
    "--role", role,
    "--host", "127.0.0.1",
    "--port", String(port),
    "--static-private", staticKeyPair.privateKey.toString("hex"),
    "--prologue", prologue.toString("hex"),
  ];
}

function hexOf(text: string): string {
  return Buffer.from(text).toString("hex");
}

describe("live interop with dissononce (Python)", () => {
  beforeAll(() => {
    const probe = spawnSync(PYTHON, ["-c", "import dissononce"], { encoding: "utf8", timeout: STEP_TIMEOUT_MS });
    if (probe.status !== 0) {
      throw new Error(
        `${PYTHON} cannot import dissononce (apt-get install -y python3-dissononce): ${probe.stderr || probe.error?.message}`,
      );
    }
  });

  it(
    "TypeScript initiator ↔ Python responder",
    async () => {
      const tsStatic = generateKeyPair();
      const pythonStatic = generateKeyPair();
      const prologue = randomBytes(16);
      const peer = new PythonPeer(pythonArgs("responder", 0, pythonStatic, prologue));
      let channel: FramedSocket | undefined;
      try {
        const port = Number(await peer.line("LISTENING"));
        const socket = createConnection({ host: "127.0.0.1", port });
        channel = new FramedSocket(socket);
        await withTimeout(new Promise((resolve) => socket.once("connect", resolve)), "TCP connect");
        const ts = await runTsSide(channel, tsStatic, prologue, true);

        expect(await peer.line("HANDSHAKE_HASH")).toBe(ts.handshake.handshakeHash.toString("hex"));
        expect(ts.handshake.remoteStaticPublicKey).toEqual(pythonStatic.publicKey);
        expect(await peer.line("REMOTE_STATIC")).toBe(tsStatic.publicKey.toString("hex"));
        expect(await peer.line("HANDSHAKE_PAYLOAD 1")).toBe(hexOf("ts handshake payload 1"));
        expect(await peer.line("HANDSHAKE_PAYLOAD 3")).toBe(hexOf("ts handshake payload 3"));
        expect(ts.receivedPayloads).toEqual(new Map([[2, "python handshake payload 2"]]));
        expect(await peer.line("RECEIVED")).toBe(hexOf("ping from ts"));
        expect(ts.transportReceived).toBe("pong from python: ping from ts");
        await peer.line("DONE");
        expect(await peer.exitCode(), peer.stderr).toBe(0);
      } finally {
        channel?.destroy();
        await peer.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "Python initiator ↔ TypeScript responder",
    async () => {
      const tsStatic = generateKeyPair();
      const pythonStatic = generateKeyPair();
      const prologue = randomBytes(16);
      const server: Server = createServer();
      const connections = new Set<Socket>();
      server.on("connection", (socket) => connections.add(socket));
      let peer: PythonPeer | undefined;
      let channel: FramedSocket | undefined;
      try {
        const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
        await withTimeout(new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)), "listen");
        const { port } = server.address() as AddressInfo;
        peer = new PythonPeer(pythonArgs("initiator", port, pythonStatic, prologue));
        const pythonPeer = peer;
        // If the peer dies before connecting, surface its stderr instead of a bare timeout.
        const socket = await Promise.race([
          withTimeout(accepted, "the python initiator to connect"),
          pythonPeer.exitCode().then((code) => {
            throw new Error(`python peer exited (${code}) before connecting: ${pythonPeer.stderr.trim()}`);
          }),
        ]);
        channel = new FramedSocket(socket);
        const ts = await runTsSide(channel, tsStatic, prologue, false);

        expect(await peer.line("HANDSHAKE_HASH")).toBe(ts.handshake.handshakeHash.toString("hex"));
        expect(ts.handshake.remoteStaticPublicKey).toEqual(pythonStatic.publicKey);
        expect(await peer.line("REMOTE_STATIC")).toBe(tsStatic.publicKey.toString("hex"));
        expect(await peer.line("HANDSHAKE_PAYLOAD 2")).toBe(hexOf("ts handshake payload 2"));
        expect(ts.receivedPayloads).toEqual(
          new Map([
            [1, "python handshake payload 1"],
            [3, "python handshake payload 3"],
          ]),
        );
        expect(ts.transportReceived).toBe("ping from python");
        expect(await peer.line("RECEIVED")).toBe(hexOf("pong from ts: ping from python"));
        await peer.line("DONE");
        expect(await peer.exitCode(), peer.stderr).toBe(0);
      } finally {
        channel?.destroy();
        for (const socket of connections) socket.destroy();
        await peer?.stop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
    TEST_TIMEOUT_MS,
  );
});
