// libp2p (TCP + @chainsafe/libp2p-noise + @chainsafe/libp2p-yamux) in the one-way and pipelined
// round-trip scenarios: the sink and the sender each in a process of its own, both started with
// `--import bench/peers/with-resolvers.js` (libp2p 3.x calls Promise.withResolvers, which
// Node 20 lacks). The polyfill never enters the bench process, which hosts our own node.
import { fileURLToPath } from "node:url";
import { startPeer } from "./peer-process.js";

const peer = (file) => fileURLToPath(new URL(`./peers/${file}`, import.meta.url));
const POLYFILL = ["--import", peer("with-resolvers.js")];

/** The receiver (bench/peers/libp2p-sink.js): { address (a multiaddr), cpuMicros(), child }. */
export function startLibp2pSink(perAck) {
  return startPeer([...POLYFILL, peer("libp2p-sink.js"), String(perAck)], "libp2p sink");
}

/**
 * The sender (bench/peers/libp2p-sender.js), dialled to the sink. It has no per-message send()
 * from this process (that would time our IPC, not libp2p): oneWaySlice(n) and
 * pipelinedSlice(n, window) have the sender process run the whole slice, with the same loop as
 * the in-process senders, and resolve when it is done. The one stdin/stdout exchange per slice
 * is the only extra cost.
 */
export async function libp2pSender(address) {
  const sender = await startPeer([...POLYFILL, peer("libp2p-sender.js"), address], "libp2p sender");
  return {
    oneWaySlice: (n) => sender.request(`one-way ${n}`),
    pipelinedSlice: (n, window) => sender.request(`round-trips ${n} ${window}`),
    /** n handshakes (new connection, stream, one byte each way), `concurrency` at a time. */
    handshakes: (n, concurrency) => sender.request(`handshakes ${n} ${concurrency}`),
    /** Makes the `count` nodes the concurrent handshakes dial from (untimed). */
    addDiallers: (count) => sender.request(`diallers ${count}`),
    cpuMicros: () => sender.cpuMicros(),
    close: () => sender.child.kill(),
  };
}
