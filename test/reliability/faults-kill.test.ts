import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { killService } from "../running/processes.js";
import { messageText, sendExactlyOnce, type SendTally } from "./faults-exchange.js";
import { ExchangeProgress, killSupervisor, planFaults, type PlannedFault } from "./faults-injector.js";
import { ProbeDir } from "./faults-metrics.js";
import { startLinkedPair, type PairSide } from "./faults-pair.js";
import { TuiSender } from "./faults-tui.js";
import { expectAllRead, expectConverged } from "./faults-verify.js";
import { scaled, seedFromEnv, seededRandom, soak } from "./scale.js";

/** Messages each side sends (both at once): 300 in all for CI, 2,000 in a soak. */
const PER_SIDE = scaled(150, 1000);
const FAULTS = scaled(4, 16);
/** Share of alice's messages typed into the real TUI instead of sent through the API. */
const TUI_SHARE = 0.1;

/**
 * Issue 20, faults: kill -9 of a node's network service, session service, supervisor or TUI at
 * seeded moments while both nodes send to each other at once. Afterwards both histories agree,
 * every message is there exactly once in its sender's order, and all of it converges to
 * delivered and read. A child's death needs nothing typed (the supervisor restarts it unlocked);
 * the supervisor's death needs `jarvis up` with the password, which the test types.
 * Replay a failure with JARVIS_SEED=<seed printed below>.
 */
describe(`kill -9 at random moments during a ${PER_SIDE * 2}-message exchange${soak ? " (soak)" : ""}`, () => {
  const seed = seedFromEnv();
  const probe = new ProbeDir();
  let alice: PairSide;
  let bob: PairSide;
  let tui: TuiSender;
  let failed = false;

  beforeAll(async () => {
    console.log(`[faults-kill] seed ${seed} (replay: JARVIS_SEED=${seed})`);
    ({ alice, bob } = await startLinkedPair({ alice: probe.env, bob: probe.env }));
    // JARVIS_HOME only labels the probe report (--home decides where the TUI looks).
    tui = new TuiSender(alice.session, "bob", { ...probe.env, JARVIS_PROBE_ROLE: "tui", JARVIS_HOME: alice.node.home });
    // Started up front so that a TUI fault always has a TUI to kill.
    await tui.start();
  }, 120_000);

  afterAll(async () => {
    tui?.close();
    // A failed run keeps both profiles (service logs, run/children.json) for diagnosis.
    const keep = failed ? `/tmp/faults-kill-${seed}-${Date.now()}` : undefined;
    await Promise.all([alice?.node.destroy(keep && `${keep}/alice`), bob?.node.destroy(keep && `${keep}/bob`)]);
    probe.remove();
  }, 60_000);

  it("loses nothing, duplicates nothing, keeps each sender's order, and converges to read", async () => {
    onTestFailed(() => {
      failed = true;
    });
    const started = Date.now();
    const random = seededRandom(seed);
    const plan = planFaults(random, FAULTS, PER_SIDE * 2);
    // A second stream for the TUI's share, so the plan does not depend on how sends interleave.
    const viaTui = seededRandom(seed ^ 0x5bd1e995);
    console.log(`[faults-kill] plan ${JSON.stringify(plan)}`);

    const progress = new ExchangeProgress();
    const tallies: Record<string, SendTally> = { alice: { sent: 0, storedDespiteError: 0, resent: 0 }, bob: { sent: 0, storedDespiteError: 0, resent: 0 }, tui: { sent: 0, storedDespiteError: 0, resent: 0 } };
    const texts = { alice: Array.from({ length: PER_SIDE }, (_, i) => messageText("alice", i + 1)), bob: Array.from({ length: PER_SIDE }, (_, i) => messageText("bob", i + 1)) };
    const tuiChosen = new Set(texts.alice.filter(() => viaTui() < TUI_SHARE));

    const sender = async (from: PairSide, to: PairSide, mine: string[]) => {
      for (const text of mine) {
        await progress.admit();
        if (tuiChosen.has(text)) await tui.send(to.uid, text, tallies.tui!);
        else await sendExactlyOnce(from.session, to.uid, text, tallies[from.node.name]!);
        progress.record();
      }
    };
    const injected: (PlannedFault & { recoveredMs: number })[] = [];
    const injector = async () => {
      for (const fault of plan) {
        progress.holdAfter(fault.at);
        await progress.reach(fault.at);
        const side = fault.node === "alice" ? alice : bob;
        const t0 = Date.now();
        if (fault.victim === "tui") tui.kill();
        else if (fault.victim === "supervisor") await (fault.node === "alice" ? tui.withStartsHeld(() => killSupervisor(side.node, side.env)) : killSupervisor(side.node, side.env));
        else await killService(side.node, fault.victim);
        injected.push({ ...fault, recoveredMs: Date.now() - t0 });
      }
      progress.release();
    };
    await Promise.all([sender(alice, bob, texts.alice), sender(bob, alice, texts.bob), injector()]);
    expect(injected).toHaveLength(FAULTS);

    const outcome = await expectConverged(alice, bob, texts.alice, texts.bob);
    const report = {
      seed,
      messages: PER_SIDE * 2,
      viaTui: tuiChosen.size,
      tuiStarts: tui.starts,
      faults: injected,
      sends: tallies,
      ...outcome,
      durationMs: Date.now() - started,
      processes: probe.figures({ [alice.node.home]: "alice", [bob.node.home]: "bob" }),
    };
    console.log(`[faults-kill] report ${JSON.stringify(report)}`);
    await expectAllRead(alice, bob, PER_SIDE, PER_SIDE);
  }, scaled(300_000, 24 * 3_600_000));
});
