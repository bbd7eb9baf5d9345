import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { startShutdownWatchdog } from "./shutdown-watchdog.js";

/**
 * The private channel between the supervisor (`jarvis daemon`) and a service it runs: an extra
 * stdio pipe set up by spawn (fd 3 in the child). It is inherited, never named in the file
 * system, argv or the environment, so nothing else on the machine can open it.
 *
 * Its end of file is the robust "parent gone" signal (Linux has PDEATHSIG, Node does not expose
 * it): when the supervisor dies, even by SIGKILL, the kernel closes its end and the child sees EOF.
 *
 * Frames: type (1 byte) | length (2 bytes, big-endian) | payload. Binary, so the store key
 * travels as bytes that can be wiped, never as a JavaScript string that cannot.
 */
export const SUPERVISOR_PIPE_FD = 3;
/** Set by the supervisor when the child has the pipe on SUPERVISOR_PIPE_FD. */
export const SUPERVISOR_PIPE_ENV = "JARVIS_SUPERVISOR_PIPE";

export type PipeMessage =
  /** Child → supervisor: the derived store key after an unlock; supervisor → child: unlock with it. */
  | { type: "key"; key: Buffer }
  /** Child → supervisor: locked (or deleted); forget the key. */
  | { type: "wipe" }
  /** Child → supervisor: the IPC address the service actually bound (a real port for port 0). */
  | { type: "address"; address: string };

const TYPE_KEY = 1;
const TYPE_WIPE = 2;
const TYPE_ADDRESS = 3;
const HEADER = 3;
const MAX_PAYLOAD = 4096;

export function encodePipeMessage(message: PipeMessage): Buffer {
  const payload = message.type === "key" ? message.key : message.type === "address" ? Buffer.from(message.address, "utf8") : Buffer.alloc(0);
  if (payload.length > MAX_PAYLOAD) throw new RangeError("supervisor pipe message too large");
  const frame = Buffer.alloc(HEADER + payload.length);
  frame[0] = message.type === "key" ? TYPE_KEY : message.type === "wipe" ? TYPE_WIPE : TYPE_ADDRESS;
  frame.writeUInt16BE(payload.length, 1);
  payload.copy(frame, HEADER);
  return frame;
}

/** Reassembles frames from stream chunks; every buffer it lets go of is zeroed (it may hold a key). */
export class PipeDecoder {
  #pending = Buffer.alloc(0);

  push(chunk: Buffer): PipeMessage[] {
    const joined = Buffer.concat([this.#pending, chunk]);
    this.#pending.fill(0);
    chunk.fill(0);
    const messages: PipeMessage[] = [];
    let offset = 0;
    while (joined.length - offset >= HEADER) {
      const type = joined[offset] as number;
      const length = joined.readUInt16BE(offset + 1);
      if (length > MAX_PAYLOAD) throw new RangeError("supervisor pipe frame too large");
      if (joined.length - offset - HEADER < length) break;
      const payload = joined.subarray(offset + HEADER, offset + HEADER + length);
      if (type === TYPE_KEY) messages.push({ type: "key", key: Buffer.from(payload) });
      else if (type === TYPE_WIPE) messages.push({ type: "wipe" });
      else if (type === TYPE_ADDRESS) messages.push({ type: "address", address: payload.toString("utf8") });
      // Unknown types are skipped: an older service and a newer supervisor still get along.
      offset += HEADER + length;
    }
    this.#pending = Buffer.from(joined.subarray(offset));
    joined.fill(0);
    return messages;
  }

  wipe(): void {
    this.#pending.fill(0);
    this.#pending = Buffer.alloc(0);
  }
}

/** One end of the pipe: send frames, receive decoded messages, learn when the other end is gone. */
export class SupervisorPipe {
  #stream: Duplex;
  #decoder = new PipeDecoder();

  constructor(stream: Duplex, handlers: { onMessage?: (message: PipeMessage) => void; onClosed?: () => void }) {
    this.#stream = stream;
    stream.on("data", (chunk: Buffer) => {
      let messages: PipeMessage[];
      try {
        messages = this.#decoder.push(chunk);
      } catch {
        // A malformed frame cannot come from our own supervisor or child: treat it as gone.
        stream.destroy();
        return;
      }
      for (const message of messages) handlers.onMessage?.(message);
    });
    let closed = false;
    const gone = () => {
      if (closed) return;
      closed = true;
      this.#decoder.wipe();
      handlers.onClosed?.();
    };
    stream.on("end", gone);
    stream.on("close", gone);
    // EPIPE/ECONNRESET when the other side died: the same news as EOF.
    stream.on("error", gone);
  }

  send(message: PipeMessage): void {
    if (this.#stream.destroyed || !this.#stream.writable) return;
    const frame = encodePipeMessage(message);
    this.#stream.write(frame, () => frame.fill(0));
  }

  close(): void {
    this.#decoder.wipe();
    this.#stream.destroy();
  }
}

/**
 * The child's end, if the supervisor gave it one. The socket does not keep the process alive
 * by itself: a service whose server has closed exits as it would unsupervised.
 */
export function openSupervisorPipe(env: NodeJS.ProcessEnv, handlers: { onMessage?: (message: PipeMessage) => void; onClosed?: () => void }): SupervisorPipe | undefined {
  if (env[SUPERVISOR_PIPE_ENV] !== String(SUPERVISOR_PIPE_FD)) return undefined;
  const socket = new Socket({ fd: SUPERVISOR_PIPE_FD, readable: true, writable: true });
  socket.unref();
  return new SupervisorPipe(socket, handlers);
}

/**
 * What a supervised service does when its supervisor is gone: shut down as on SIGTERM, and
 * exit regardless after `hardExitMs` — an orphan must never keep a port or an unlocked store.
 */
export function exitWhenSupervisorGone(hardExitMs = 1_500): () => void {
  return () => {
    // The deadline is kept by a worker thread, not a timer: a stuck shutdown can hold the
    // main thread's event loop (see shutdown-watchdog.ts). SIGKILL from the worker always works.
    startShutdownWatchdog(hardExitMs, hardExitMs);
    process.kill(process.pid, "SIGTERM");
  };
}
