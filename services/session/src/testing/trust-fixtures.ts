import { expect, vi } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema, type Envelope } from "@jarvis/proto/jarvis/peer/v1/envelope";
import { link, type TestNodes } from "./test-nodes.js";
import type { SessionApp } from "../app/session-app.js";
import type { Card } from "../model.js";

/** Shared by the session's trust tests (issue 15): small helpers and the group under attack. */

export const waitFor = <T>(fn: () => T) => vi.waitFor(fn, { timeout: 5_000, interval: 5 });
export const PAGE = { before: 0, after: 0, limit: 50 };
export const keyOf = (app: SessionApp) => app.identity().identity.publicKey;
export const cardOf = (app: SessionApp): Card => app.identity().card;
export const drops = (app: SessionApp) => app.requireUnlocked().drops;
export const connected = (a: SessionApp, b: SessionApp) => waitFor(() => expect(a.requireUnlocked().presence.isConnected(b.identity().identity.uid)).toBe(true));
export const raw = (body: Envelope["body"]) => Buffer.from(toBinary(EnvelopeSchema, create(EnvelopeSchema, { body })));

/** alice creates a group with bob and mallory; bob also has carol as a contact of his own. */
export async function groupWithMallory(nodes: TestNodes) {
  const [alice, bob, mallory, carol, eve] = (await nodes.people(["alice", "bob", "mallory", "carol", "eve"])).map((n) => n.app) as SessionApp[] as [SessionApp, SessionApp, SessionApp, SessionApp, SessionApp];
  link(alice, bob);
  link(alice, mallory);
  link(bob, carol);
  const group = alice.createGroup("team", ["bob", "mallory"]);
  await waitFor(() => expect(bob.listGroups()).toHaveLength(1));
  await waitFor(() => expect(mallory.listGroups()).toHaveLength(1));
  await connected(bob, mallory);
  return { alice, bob, mallory, carol, eve, group };
}
