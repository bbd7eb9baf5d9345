import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newMessageId } from "@jarvis/core";
import { PeerState } from "@jarvis/proto/jarvis/network/v1/peer";
import type { RawNoisePeer } from "../helpers/network.js";
import { eventually, TestNode } from "../helpers/cli.js";
import { ackFor, chat, person, Victim } from "../security/peer-kit.js";
import { channelCase, type ChannelTarget } from "./fuzz-envelopes.js";
import { memoryOf, networkClient, servicePids, type ServicePids } from "./fuzz-process.js";
import { scaled, seededRandom, seedFromEnv } from "./scale.js";

/**
 * Issue 20, hostile input after the handshake: alice, a contact of the victim (a real node,
 * `jarvis up`) and a plain member of its group, completes a real Noise handshake with her own
 * key and then sends valid ciphertext of everything a broken or hostile peer could write
 * (fuzz-envelopes.ts). Each frame the node can survive must be refused on its own with the
 * channel kept (a probe chat right after it is acked); each it cannot must close the channel
 * with a typed code. Meanwhile carol, another contact, keeps talking on her own channel and
 * loses nothing; the processes never restart; memory stays bounded; the group is unchanged.
 */
const CASES = scaled(150, 5_000);
const RSS_GROWTH_BOUND_MIB = 150;
/** Codes a channel may legitimately close with here (the node's typed channel errors). */
const TYPED_CLOSE_CODES = new Set(["decrypt-failed", "bad-chunk", "bad-control", "reassembly-too-large"]);

interface LogLine {
  level: number;
  msg: string;
  code?: string;
}
const logLines = (home: string, service: string): LogLine[] =>
  readFileSync(join(home, "logs", `${service}.log`), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogLine);

describe("a contact's valid channel carrying hostile frames, against a real node", () => {
  const victim = new Victim(new TestNode("fzc"));
  const alice = person("alice");
  const carol = person("carol");
  let pids: ServicePids;
  let target: ChannelTarget;

  beforeAll(async () => {
    await victim.start([alice, carol]);
    pids = servicePids(victim.node);
    const groupId = (await victim.node.ok(["group", "create", "team", "alice", "carol"])).trim();
    target = { groupId, creator: await victim.asPerson(), members: [alice, carol] };
  }, 60_000);
  afterAll(() => victim.destroy());

  it(`refuses ${CASES} hostile frames one by one or closes the channel with a typed code; another contact is unaffected`, async () => {
    const seed = seedFromEnv();
    console.log(`fuzz-channel: seed ${seed} (replay with JARVIS_SEED=${seed}), ${CASES} cases`);
    const random = seededRandom(seed);
    const toCarol = await victim.dial(carol);
    let carolClosed = false;
    void toCarol.closed.then(() => (carolClosed = true));
    const carolTexts: string[] = [];
    const before = { network: memoryOf(pids.network), session: memoryOf(pids.session) };

    let toAlice: RawNoisePeer = await victim.dial(alice);
    const outcomes = new Map<string, { survived: number; closed: number }>();
    const started = performance.now();
    for (let i = 0; i < CASES; i++) {
      const c = channelCase(random, target, i);
      toAlice.socket.write(c.bytes(toAlice));
      const tally = outcomes.get(c.kind) ?? { survived: 0, closed: 0 };
      outcomes.set(c.kind, tally);
      if (c.expect === "survive") {
        // The channel is kept and the node went on to the next frame: a probe chat is acked.
        const probe = newMessageId();
        toAlice.send(chat(probe, `probe ${i}`));
        await ackFor(toAlice, probe, 20_000).catch((error: unknown) => {
          throw new Error(`case ${i} (${c.kind}, seed ${seed}): no ack for the probe after it${toAlice.socket.destroyed ? " (channel closed)" : ""}: ${String(error)}`);
        });
        tally.survived++;
      } else {
        await eventually(async () => (toAlice.socket.destroyed ? true : undefined), 20_000, `case ${i} (${c.kind}, seed ${seed}) to close the channel`);
        // The node says why, with the code of this very refusal.
        const code = await eventually(async () => {
          const peers = (await networkClient(victim.node).listPeers({})).peers;
          const peer = peers.find((p) => Buffer.from(p.publicKey).equals(Buffer.from(alice.keys.publicKey)));
          return peer?.state === PeerState.CONNECTED ? undefined : peer?.stats?.lastErrorCode;
        }, 20_000, `case ${i}: alice's channel closed`);
        expect(code, `case ${i} (${c.kind}, seed ${seed})`).toBe(c.code);
        tally.closed++;
        toAlice = await victim.dial(alice);
      }
      if (i % 10 === 0) {
        const id = newMessageId();
        const text = `carol ${i}`;
        carolTexts.push(text);
        toCarol.send(chat(id, text, BigInt(Date.now()), BigInt(carolTexts.length)));
        await ackFor(toCarol, id, 20_000);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const after = { network: memoryOf(pids.network), session: memoryOf(pids.session) };
    const closes = logLines(victim.node.home, "network").filter((l) => l.msg === "channel closed");
    const closeCodes = new Map<string, number>();
    for (const l of closes) closeCodes.set(l.code ?? "(none)", (closeCodes.get(l.code ?? "(none)") ?? 0) + 1);
    const errors = ["network", "session"].flatMap((s) => logLines(victim.node.home, s).filter((l) => l.level >= 50).map((l) => `${s}: ${l.msg}`));
    console.log(
      `fuzz-channel: ${CASES} cases in ${seconds.toFixed(1)} s; ${[...outcomes].map(([k, t]) => `${k} ${t.survived + t.closed}`).join(", ")}; ` +
        `channel close codes ${JSON.stringify(Object.fromEntries(closeCodes))}; ` +
        `RSS network ${before.network.rssMiB.toFixed(1)} → ${after.network.rssMiB.toFixed(1)} (peak ${after.network.peakMiB.toFixed(1)}), ` +
        `session ${before.session.rssMiB.toFixed(1)} → ${after.session.rssMiB.toFixed(1)} (peak ${after.session.peakMiB.toFixed(1)}) MiB; error lines ${errors.length}`,
    );

    expect(servicePids(victim.node)).toEqual(pids);
    expect(errors).toEqual([]);
    for (const code of closeCodes.keys()) expect(TYPED_CLOSE_CODES, `close code ${code}`).toContain(code);
    const closedCases = [...outcomes.values()].reduce((n, t) => n + t.closed, 0);
    expect(closes.length).toBeGreaterThanOrEqual(closedCases);
    for (const service of ["network", "session"] as const) expect(after[service].rssMiB - before[service].rssMiB, service).toBeLessThan(RSS_GROWTH_BOUND_MIB);

    // carol's channel was never touched, and each of her messages is stored once, in order.
    expect(carolClosed).toBe(false);
    const history = await victim.node.json<{ from: string; text: string }[]>(["history", "carol", "--all"]);
    expect(history.filter((m) => m.from === carol.uid).map((m) => m.text)).toEqual(carolTexts);
    // alice, a plain member, changed nothing about the group.
    const groups = await victim.node.json<{ id: string; members: string[] }[]>(["groups"]);
    const group = groups.find((g) => g.id === target.groupId);
    expect([...(group?.members ?? [])].sort()).toEqual([target.creator.uid, alice.uid, carol.uid].sort());
  }, scaled(180_000, 0));
});
