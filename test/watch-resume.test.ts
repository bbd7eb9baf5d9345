import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestNode } from "./helpers/cli.js";
import { linkedNodes } from "./helpers/mesh.js";

/**
 * A watcher that goes away and comes back with its last cursor misses nothing and sees
 * nothing twice, while messages keep arriving (design §3, Subscribe).
 */
describe("watch --after resumes without gap or duplicate", () => {
  let alice: TestNode;
  let bob: TestNode;

  beforeAll(async () => {
    ({ nodes: [alice, bob] = [] as never } = await linkedNodes(["alice", "bob"]));
  });
  afterAll(async () => {
    await Promise.all([alice.destroy(), bob.destroy()]);
  });

  it("replays the missed events then streams live ones", async () => {
    const total = 24;
    const first = bob.watch(["--after", "0"]);
    const sending = (async () => {
      for (let i = 0; i < total; i++) await alice.ok(["send", "bob", `msg ${i}`]);
    })();
    await first.waitFor((e) => e.type === "message_received" && (e.message as { text: string }).text === "msg 5");
    first.stop();
    const lastSeen = Math.max(...first.events.map((e) => e.cursor as number));

    // More arrive while nobody watches; then a new watcher resumes after the last cursor it saw.
    await alice.ok(["send", "bob", "while away"]);
    const second = bob.watch(["--after", String(lastSeen)]);
    await sending;
    await second.waitFor((e) => e.type === "message_received" && (e.message as { text: string }).text === `msg ${total - 1}`, 30_000);

    const firstCursors = first.events.map((e) => e.cursor as number);
    const secondCursors = second.events.map((e) => e.cursor as number);
    const cursors = [...firstCursors.filter((c) => c <= lastSeen), ...secondCursors];
    expect(secondCursors[0]).toBe(lastSeen + 1);
    expect(cursors).toEqual(Array.from({ length: cursors.length }, (_, i) => (cursors[0] as number) + i));

    const texts = [...first.events.filter((e) => (e.cursor as number) <= lastSeen), ...second.events]
      .filter((e) => e.type === "message_received")
      .map((e) => (e.message as { text: string }).text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts).toHaveLength(total + 1);
    expect(texts).toContain("while away");
    second.stop();
  });
});
