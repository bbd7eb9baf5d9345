import { Presence, type PeerStatus } from "@jarvis/proto/jarvis/session/v1/resources";
import { createTestProfile } from "@jarvis/session/testing";
import { TEST_PASSWORD, TestNode, eventually } from "../helpers/cli.js";
import { ResilientSession } from "./faults-exchange.js";

/** One side of a linked pair: the node, its uid, and a client that survives restarts. */
export interface PairSide {
  node: TestNode;
  uid: string;
  session: ResilientSession;
  /** The environment its `jarvis up` ran with; a later `up` uses the same. */
  env: NodeJS.ProcessEnv;
}

/**
 * Two real nodes (`jarvis up` processes, cheap-KDF profiles) that have added each other and are
 * connected. `envs` go into each node's `jarvis up`, and so into its supervisor and services.
 */
export async function startLinkedPair(envs: { alice: NodeJS.ProcessEnv; bob: NodeJS.ProcessEnv }): Promise<{ alice: PairSide; bob: PairSide }> {
  const start = async (name: "alice" | "bob"): Promise<PairSide> => {
    const node = new TestNode(name);
    const env = envs[name];
    const { uid } = await createTestProfile(node.home, { name, password: TEST_PASSWORD });
    const up = await node.cli(["up", "--listen", "127.0.0.1:0"], env);
    if (up.code !== 0) throw new Error(`${name}: jarvis up exited ${up.code}: ${up.stderr.trim()}`);
    return { node, uid, env, session: new ResilientSession(node) };
  };
  const [alice, bob] = await Promise.all([start("alice"), start("bob")]);
  const [aliceCode, bobCode] = await Promise.all([alice.node.linkCode(), bob.node.linkCode()]);
  await alice.node.ok(["contact", "add", bobCode]);
  await bob.node.ok(["contact", "add", aliceCode]);
  await Promise.all([bothConnected(alice, bob), bothConnected(bob, alice)]);
  return { alice, bob };
}

/** Polls ListPeers until `side` reports `other` connected. */
export async function bothConnected(side: PairSide, other: PairSide, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => ((await peerConnected(side, other)) ? true : undefined), timeoutMs, `${side.node.name} to see ${other.node.name} connected`);
}

export async function peerConnected(side: PairSide, other: PairSide): Promise<boolean> {
  return (await peerOf(side, other))?.presence === Presence.GREEN;
}

/** What `side` says about `other` (ListPeers: presence and health stats). */
export async function peerOf(side: PairSide, other: PairSide): Promise<PeerStatus | undefined> {
  const { peers } = await side.session.call((client) => client.listPeers({}));
  return peers.find((p) => p.uid === other.uid);
}
