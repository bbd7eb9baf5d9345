import { TestNode, eventually } from "./cli.js";

/** Initialises nodes and links every pair both ways with link codes, then waits for the channels. */
export async function linkedNodes(names: string[]): Promise<{ nodes: TestNode[]; uids: string[] }> {
  const nodes = names.map((name) => new TestNode(name));
  await Promise.all(nodes.map((n) => n.init()));
  const uids = await Promise.all(nodes.map(async (n) => (await n.json<{ uid: string }>(["status"])).uid));
  const codes = await Promise.all(nodes.map((n) => n.linkCode()));
  for (const [i, node] of nodes.entries()) {
    for (const [j, code] of codes.entries()) if (i !== j) await node.ok(["contact", "add", code]);
  }
  await Promise.all(nodes.map((node) => waitForPeers(node, nodes.length - 1)));
  return { nodes, uids };
}

export function waitForPeers(node: TestNode, count: number): Promise<true> {
  return eventually(async () => {
    const status = await node.json<{ peers: { state: string }[] }>(["status"]);
    return status.peers.filter((p) => p.state === "green").length >= count ? true : undefined;
  }, 30_000, `${node.name} to see ${count} peers connected`);
}
