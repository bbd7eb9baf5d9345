import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type TestNode } from "../helpers/cli.js";
import { linkedNodes } from "../helpers/mesh.js";
import { sessionClient } from "../running/processes.js";

interface Entry {
  text: string;
  position: number;
}

const COUNT = 1_100; // past ListMessages' 1,000-message page, which `history` could not get beyond
const outgoing = Array.from({ length: 600 }, (_, i) => `m${i}`);
const incoming = Array.from({ length: COUNT - 600 }, (_, i) => `m${600 + i}`);

/** Many messages fast, over the SendMessages stream (one CLI process per message would take minutes). */
async function sendMany(node: TestNode, conversation: string, texts: string[]): Promise<void> {
  async function* requests() {
    for (const [i, text] of texts.entries()) yield { correlationId: String(i), conversation, text };
  }
  let stored = 0;
  for await (const answer of sessionClient(node).sendMessages(requests())) if (answer.result.case === "message") stored++;
  expect(stored).toBe(texts.length);
}

/** `jarvis history` reaches every message: --all, and --before / --after pages that chain. */
describe("history pages all the way back", () => {
  let alice: TestNode;
  let bob: TestNode;

  beforeAll(async () => {
    const { nodes } = await linkedNodes(["alice", "bob"]);
    [alice, bob] = nodes as [TestNode, TestNode];
    // 600 from alice, then 500 from bob: both stay under the outbox's 1,000 undelivered per
    // contact however slow delivery is, and alice's store holds 1,100 in this order.
    await sendMany(alice, "bob", outgoing);
    await sendMany(bob, "alice", incoming);
    await eventually(async () => ((await alice.json<Entry[]>(["history", "bob", "--limit", "1"]))[0]?.text === incoming.at(-1) ? true : undefined), 60_000, "bob's messages to reach alice");
  });
  afterAll(async () => {
    await Promise.all([alice?.destroy(), bob?.destroy()]);
  });

  const texts = (entries: Entry[]) => entries.map((e) => e.text);
  const all = Array.from({ length: COUNT }, (_, i) => `m${i}`);

  it("--all returns every message, oldest first, with increasing positions", async () => {
    const entries = await alice.json<Entry[]>(["history", "bob", "--all"]);
    expect(texts(entries)).toEqual(all);
    expect(entries.every((e, i) => i === 0 || e.position > (entries[i - 1] as Entry).position)).toBe(true);
    // A small page size walks many pages to the same answer.
    expect(texts(await alice.json<Entry[]>(["history", "bob", "--all", "--limit", "300"]))).toEqual(all);
  });

  it("--before pages chain back to the first message without gap or overlap", async () => {
    const pages: Entry[][] = [];
    let page = await alice.json<Entry[]>(["history", "bob", "--limit", "400"]);
    while (page.length > 0) {
      pages.unshift(page);
      page = await alice.json<Entry[]>(["history", "bob", "--limit", "400", "--before", String(page[0]?.position)]);
    }
    expect(pages.map((p) => p.length)).toEqual([300, 400, 400]);
    expect(texts(pages.flat())).toEqual(all);
  });

  it("--after pages forwards, and --after with --all reads to the newest", async () => {
    const entries = await alice.json<Entry[]>(["history", "bob", "--all"]);
    const from = (entries[99] as Entry).position;
    expect(texts(await alice.json<Entry[]>(["history", "bob", "--after", String(from), "--limit", "5"]))).toEqual(all.slice(100, 105));
    expect(texts(await alice.json<Entry[]>(["history", "bob", "--after", String(from), "--all", "--limit", "250"]))).toEqual(all.slice(100));
    const upTo = (entries[200] as Entry).position;
    expect(texts(await alice.json<Entry[]>(["history", "bob", "--after", String(from), "--before", String(upTo), "--all"]))).toEqual(all.slice(100, 200));
  });

  it("rejects a bad cursor as usage", async () => {
    for (const args of [["--before", "x"], ["--after", "-3"], ["--before", "5", "--after", "9"], ["--limit", "1001"]]) {
      const result = await alice.cli(["history", "bob", ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^jarvis: --(before|after|limit)/);
    }
  });
});
