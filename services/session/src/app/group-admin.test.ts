import { afterEach, describe, expect, it, vi } from "vitest";
import { FailedPreconditionError } from "@jarvis/core";
import { TestNodes, link } from "../testing/test-nodes.js";
import type { SessionApp } from "./session-app.js";

// Three real sessions on the in-memory hub: admin changes travel as GroupUpdate and every
// member applies them under the authority rules (design §5).
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

const waitFor = (fn: () => void) => vi.waitFor(fn, { timeout: 5_000, interval: 5 });

function failure(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    if (error instanceof FailedPreconditionError) return error.code;
    throw error;
  }
  throw new Error("expected a FailedPreconditionError");
}

describe("group admins: grant and remove", () => {
  it("lets an admin grant admin and remove a member; everyone, the removed one included, learns it", async () => {
    const [alice, bob, carol] = (await nodes.people(["alice", "bob", "carol"])).map((n) => n.app) as [SessionApp, SessionApp, SessionApp];
    link(alice, bob);
    link(alice, carol);
    const uid = (app: SessionApp) => app.identity().identity.uid;
    const group = alice.createGroup("trio", ["bob", "carol"]);
    await waitFor(() => expect(carol.listGroups()).toHaveLength(1));

    // A plain member may do neither; bob knows carol only through the group.
    expect(failure(() => bob.grantGroupAdmin(group.id, uid(carol)))).toBe("not-an-admin");
    expect(failure(() => bob.removeGroupMember(group.id, uid(carol)))).toBe("not-an-admin");

    const granted = alice.grantGroupAdmin("trio", "bob");
    expect([...granted.adminUids].sort()).toEqual([uid(alice), uid(bob)].sort());
    await waitFor(() => expect(bob.getGroup(group.id).adminUids).toContain(uid(bob)));

    // Bob, now an admin, removes carol by the name her card claims (a group contact for him).
    const removed = bob.removeGroupMember(group.id, "carol");
    expect(removed.memberUids).not.toContain(uid(carol));
    await waitFor(() => expect(alice.getGroup(group.id).memberUids).not.toContain(uid(carol)));
    await waitFor(() => expect(carol.getGroup(group.id).memberUids).not.toContain(uid(carol)));
    // Carol's copy is read-only now.
    await expect(Promise.resolve().then(() => carol.sendMessage(group.id, "still here?"))).rejects.toMatchObject({ code: "not-a-member" });

    // The creator stays; oneself leaves instead; a non-member cannot be made admin.
    expect(failure(() => bob.removeGroupMember(group.id, uid(alice)))).toBe("creator-removed");
    expect(failure(() => bob.removeGroupMember(group.id, uid(bob)))).toBe("remove-self");
    expect(failure(() => alice.grantGroupAdmin(group.id, "carol"))).toBe("not-a-member");
  });
});
