import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newMessageId } from "@jarvis/core";
import { RawNoisePeer, RecordingProxy } from "../helpers/network.js";
import { eventually, TestNode } from "../helpers/cli.js";
import { ackFor, chat, hello, person, Victim } from "../security/peer-kit.js";
import { listenerInput, splitFrames, type InputKind } from "./fuzz-inputs.js";
import { isAlive, memoryOf, openHeld, refusals, runPool, sendAndClose, servicePids, type ServicePids } from "./fuzz-process.js";
import { scaled, seededRandom, seedFromEnv } from "./scale.js";

/**
 * Issue 20, hostile input before the handshake: the P2P listener of a real node (`jarvis up`,
 * its network service a process of its own) gets random bytes, bad length prefixes, a real
 * Noise XX transcript mutated frame by frame, slow-loris sockets, and strangers from hundreds of
 * source addresses (all of 127.0.0.0/8 is loopback on Linux). Afterwards the same processes are
 * running, memory stayed bounded, every input was refused and counted, and a contact still
 * connects and is answered.
 */
const CASES = scaled(300, 20_000);
const CONCURRENCY = 8; // one source address per worker, well under the per-source cap of 16
const RSS_GROWTH_BOUND_MIB = 64;
const PER_SOURCE_CAP = 16; // DEFAULT_HANDSHAKE_LIMITS.pendingPerAddress
const TABLE_CAP = 256; // DEFAULT_HANDSHAKE_LIMITS.pendingTotal

describe("the P2P listener of a real node, before the handshake", () => {
  const victim = new Victim(new TestNode("fzl"));
  const alice = person("alice");
  const carol = person("carol");
  const held: Socket[] = [];
  let pids: ServicePids;
  let transcript: Buffer[] = [];

  /** A contact's full round trip: handshake, Hello, a chat, and the node's ack for it. */
  async function contactRoundTrip(who = carol): Promise<void> {
    const peer = await victim.dial(who);
    const id = newMessageId();
    peer.send(chat(id, "still answered"));
    await ackFor(peer, id, 20_000);
    peer.destroy();
  }

  beforeAll(async () => {
    await victim.start([alice, carol]);
    pids = servicePids(victim.node);
    // A genuine initiator's bytes, recorded through a proxy: the base of the mutated inputs.
    const proxy = await RecordingProxy.start({ target: victim.address });
    try {
      const peer = await RawNoisePeer.dial(proxy.address, alice.keys);
      const id = newMessageId();
      peer.send(hello("alice"));
      peer.send(chat(id, "recorded"));
      await ackFor(peer, id);
      peer.destroy();
      transcript = splitFrames(proxy.upBytes(0));
    } finally {
      await proxy.close();
    }
  }, 60_000);
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await victim.destroy();
  });

  it(`refuses and counts ${CASES} random and mutated inputs, keeps its memory bounded, and still answers a contact`, async () => {
    const seed = seedFromEnv();
    console.log(`fuzz-listener: seed ${seed} (replay with JARVIS_SEED=${seed}), ${CASES} cases`);
    const random = seededRandom(seed);
    expect(transcript.length).toBeGreaterThanOrEqual(4); // e, (s, se), Hello, chat
    const before = { memory: memoryOf(pids.network), counters: await refusals(victim.node) };
    const kinds = new Map<InputKind, number>();
    // Inputs are drawn in order from the one generator, so the seed alone fixes all of them.
    const inputs = Array.from({ length: CASES }, (_, i) => listenerInput(random, transcript, i));
    for (const { kind } of inputs) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const started = performance.now();
    await runPool(CASES, CONCURRENCY, (i, worker) => sendAndClose(victim.address, (inputs[i] as { bytes: Buffer }).bytes, `127.0.0.${10 + worker}`));
    const seconds = (performance.now() - started) / 1000;

    const after = await eventually(async () => {
      const counters = await refusals(victim.node);
      return counters.protocolErrors - before.counters.protocolErrors >= CASES ? counters : undefined;
    }, 20_000, `${CASES} protocol errors`);
    const memory = memoryOf(pids.network);
    console.log(
      `fuzz-listener: ${CASES} inputs in ${seconds.toFixed(1)} s (${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")}); ` +
        `protocol errors +${after.protocolErrors - before.counters.protocolErrors}, rejected peers +${after.rejectedPeers - before.counters.rejectedPeers}; ` +
        `network RSS ${before.memory.rssMiB.toFixed(1)} → ${memory.rssMiB.toFixed(1)} MiB, peak ${memory.peakMiB.toFixed(1)} MiB`,
    );
    // Each input was refused exactly once, none was taken for a peer.
    expect(after.protocolErrors - before.counters.protocolErrors).toBe(CASES);
    expect(after.rejectedPeers).toBe(before.counters.rejectedPeers);
    expect(servicePids(victim.node)).toEqual(pids);
    expect(memory.rssMiB - before.memory.rssMiB).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    await contactRoundTrip();
  }, scaled(120_000, 0));

  it(`keeps at most ${PER_SOURCE_CAP} slow-loris sockets from one source, lets a contact in meanwhile, and closes them at the handshake timeout`, async () => {
    const before = await refusals(victim.node);
    // 40 sockets from one address: half send one byte of a length prefix, half a prefix and part of its body.
    const sockets = await openHeld(victim.address, "127.0.0.30", 40, (i) => (i % 2 === 0 ? Buffer.from([0x00]) : Buffer.from([0x00, 0x20, 1, 2, 3])));
    held.push(...sockets);
    const open = () => sockets.filter((s) => !s.closed).length;
    await eventually(async () => (open() === PER_SOURCE_CAP ? true : undefined), 20_000, `all but ${PER_SOURCE_CAP} slow sockets closed`);

    const started = performance.now();
    await contactRoundTrip(alice);
    const contactMs = performance.now() - started;
    expect(open()).toBe(PER_SOURCE_CAP);
    // Nothing the slow sockets can do keeps them: the handshake timeout (15 s) ends every one.
    await eventually(async () => (open() === 0 ? true : undefined), 40_000, "the handshake timeout to close the slow sockets");
    const after = await refusals(victim.node);
    console.log(`fuzz-listener: slow loris 40 sockets from one source, ${PER_SOURCE_CAP} held until the timeout; contact answered in ${contactMs.toFixed(0)} ms meanwhile`);
    expect(after.handshakeTimeouts - before.handshakeTimeouts).toBe(PER_SOURCE_CAP);
    expect(servicePids(victim.node)).toEqual(pids);
  }, 90_000);

  // Every slot held by a different source: the contact's source holds none, so its handshake
  // takes the oldest stranger's slot and it gets in while the strangers' handshakes (15 s
  // timeout) are still pending.
  it(`caps the pending-handshake table at ${TABLE_CAP} against strangers from many sources, and a contact still gets in before their handshakes time out`, async () => {
    const sources = scaled(300, 1_000);
    const sockets: Socket[] = [];
    for (let i = 0; i < sources; i++) {
      // 127.1.x.y: one half-open socket per address, none of them over its per-source cap.
      sockets.push(...(await openHeld(victim.address, `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, 1, () => Buffer.from([0x00]))));
    }
    held.push(...sockets);
    const open = () => sockets.filter((s) => !s.closed).length;
    await eventually(async () => (open() <= TABLE_CAP ? true : undefined), 20_000, `the table to hold at most ${TABLE_CAP}`);
    const memory = memoryOf(pids.network);

    // The contact tries once a second for up to the handshake timeout and a margin.
    const started = performance.now();
    let attempts = 0;
    await eventually(async () => {
      attempts++;
      await contactRoundTrip(alice);
      return true;
    }, 30_000, "the contact to get in");
    const contactMs = performance.now() - started;
    console.log(
      `fuzz-listener: ${sources} sources × 1 half-open socket → ${open()} still pending after the contact got in ` +
        `(table cap ${TABLE_CAP}); network RSS ${memory.rssMiB.toFixed(1)} MiB; contact answered after ${attempts} attempt(s), ${contactMs.toFixed(0)} ms`,
    );
    // Strangers still hold slots: the contact did not have to wait for their timeouts.
    expect(open()).toBeGreaterThan(0);
    expect(servicePids(victim.node)).toEqual(pids);
    for (const pid of [pids.network, pids.session]) expect(isAlive(pid)).toBe(true);
  }, 90_000);
});
