import { describe, expect, it } from "vitest";
import { InvalidArgumentError, NotFoundError } from "@jarvis/core";
import type { Contact, Group } from "../model.js";
import { resolveConversation, type ConversationLookups } from "./conversation-ref.js";

const bob = { uid: "b".repeat(52), name: "bob", alias: "" } as Contact;
const teamContact = { uid: "c".repeat(52), name: "team", alias: "" } as Contact;
const team = { id: `g${"1".repeat(31)}`, name: "team" } as Group;

/** Name lookups over fixed lists, failing the way ContactService and GroupService do. */
function lookups(contacts: Contact[], groups: Group[]): ConversationLookups {
  return {
    contacts: {
      resolve: (q) => {
        const hit = contacts.find((c) => c.uid === q.trim() || c.name === q.trim());
        if (!hit) throw new NotFoundError(`unknown contact "${q.trim()}"`, "unknown-contact");
        return hit;
      },
    },
    groups: {
      resolve: (q) => {
        const hit = groups.find((g) => g.id === q.trim() || g.name === q.trim());
        if (!hit) throw new NotFoundError(`unknown group "${q.trim()}"`, "unknown-group");
        return hit;
      },
    },
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as NotFoundError).code;
  }
  return "no error";
}

describe("resolveConversation", () => {
  it("answers a contact's full uid from the contact lookup alone, without listing groups", () => {
    const carol = { uid: "0123456789abcdef0123456789abcdef", name: "carol", alias: "" } as Contact;
    const groupsUntouched: ConversationLookups = {
      contacts: lookups([carol], []).contacts,
      groups: {
        resolve: () => {
          throw new Error("groups were listed for a uid");
        },
      },
    };
    expect(resolveConversation(carol.uid, groupsUntouched)).toEqual({ kind: "contact", contact: carol, id: carol.uid });
    // A uid that is nobody's still falls through to the usual lookups and their NOT_FOUND.
    expect(codeOf(() => resolveConversation("f".repeat(32), lookups([carol], [team])))).toBe("unknown-contact");
  });

  it("finds a group by name, a contact by name, and a group by id", () => {
    const l = lookups([bob], [team]);
    expect(resolveConversation("team", l)).toMatchObject({ kind: "group", id: team.id });
    expect(resolveConversation(" bob ", l)).toMatchObject({ kind: "contact", id: bob.uid });
    expect(resolveConversation(team.id, l)).toMatchObject({ kind: "group", id: team.id });
  });

  it("calls a name shared by a contact and a group ambiguous, and lets a prefix choose", () => {
    const l = lookups([teamContact], [team]);
    expect(() => resolveConversation("team", l)).toThrow(InvalidArgumentError);
    expect(() => resolveConversation("team", l)).toThrow(/contact:team \(cccccccc\), group:team \(g1111111\)/);
    expect(codeOf(() => resolveConversation("team", l))).toBe("ambiguous-conversation");
    expect(resolveConversation("group:team", l)).toMatchObject({ kind: "group", id: team.id });
    expect(resolveConversation("Contact:team", l)).toMatchObject({ kind: "contact", id: teamContact.uid });
  });

  it("keeps the lookup's own not-found codes", () => {
    const l = lookups([bob], [team]);
    expect(codeOf(() => resolveConversation("nobody", l))).toBe("unknown-contact");
    expect(codeOf(() => resolveConversation("group:bob", l))).toBe("unknown-group");
    expect(codeOf(() => resolveConversation("contact:team", l))).toBe("unknown-contact");
    expect(codeOf(() => resolveConversation("  ", l))).toBe("invalid-argument");
  });

  it("lets an ambiguity inside one kind through instead of guessing", () => {
    const ambiguous: ConversationLookups = {
      contacts: {
        resolve: () => {
          throw new InvalidArgumentError("two bobs", "ambiguous-contact");
        },
      },
      groups: lookups([], [team]).groups,
    };
    expect(codeOf(() => resolveConversation("bob", ambiguous))).toBe("ambiguous-contact");
  });
});
