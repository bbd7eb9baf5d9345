import { claimNote } from "../screens/contact-dialogs.js";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ContactSchema, MessageSchema, MessageState } from "@jarvis/proto/jarvis/session/v1/resources";
import { SubscribeResponseSchema } from "@jarvis/proto/jarvis/session/v1/session_service";
import { Store } from "./store.js";

const received = (cursor: bigint, id: string, position: bigint) =>
  create(SubscribeResponseSchema, { cursor, event: { case: "messageReceived", value: { message: create(MessageSchema, { id, conversationId: "c", senderUid: "u", text: id, position }) } } });

describe("Store", () => {
  it("applies event payloads, keeps the cursor, and ignores a replayed event", () => {
    const store = new Store();
    const seen: string[] = [];
    store.onIncoming = (m) => seen.push(m.id);
    store.apply(received(5n, "b", 2n));
    store.apply(received(6n, "a", 1n));
    store.apply(received(5n, "b", 2n));
    expect(store.cursor).toBe(6n);
    expect(store.history("c").messages.map((m) => m.id)).toEqual(["a", "b"]);
    expect(seen).toEqual(["b", "a"]);
    store.apply(create(SubscribeResponseSchema, { cursor: 7n, event: { case: "messageStateChanged", value: { messageId: "a", conversationId: "c", state: MessageState.READ } } }));
    expect(store.history("c").messages[0]?.state).toBe(MessageState.READ);
  });

  it("replaces unread counts from UnreadCountsChanged", () => {
    const store = new Store();
    store.apply(create(SubscribeResponseSchema, { cursor: 1n, event: { case: "unreadCountsChanged", value: { counts: [{ conversationId: "c", unread: 3 }], total: 3 } } }));
    expect(store.unread.get("c")).toBe(3);
    store.apply(create(SubscribeResponseSchema, { cursor: 2n, event: { case: "unreadCountsChanged", value: { counts: [], total: 0 } } }));
    expect(store.unread.get("c")).toBeUndefined();
  });

  it("tells apart two contacts with the same name, and a contact called \"me\" or by our own name, from us", () => {
    const store = new Store();
    store.selfUid = "self0000";
    store.selfName = "Alice";
    const contact = (uid: string, name: string) => create(ContactSchema, { uid, name });
    for (const c of [contact("aaaaaaaa11", "bob"), contact("bbbbbbbb22", "bob"), contact("cccccccc33", "ME"), contact("dddddddd44", "alice"), contact("eeeeeeee55", "carol")]) {
      store.contacts.set(c.uid, c);
    }
    expect(store.nameOf("self0000")).toBe("me");
    expect(store.nameOf("aaaaaaaa11")).toBe("bob~aaaaaa");
    expect(store.nameOf("bbbbbbbb22")).toBe("bob~bbbbbb");
    expect(store.nameOf("cccccccc33")).toBe("ME~cccccc");
    expect(store.nameOf("dddddddd44")).toBe("alice~dddddd");
    expect(store.nameOf("eeeeeeee55")).toBe("carol");
  });

  it("shows a name a contact claims later as a quoted claim next to the local name, never instead of it", () => {
    const store = new Store();
    const al = create(ContactSchema, { uid: "aaaaaaaa11", name: "alice", claimedName: "Al" });
    const same = create(ContactSchema, { uid: "bbbbbbbb22", name: "bob", claimedName: "bob" });
    const aliased = create(ContactSchema, { uid: "cccccccc33", name: "carol", alias: "C", claimedName: "C" });
    for (const c of [al, same, aliased]) store.contacts.set(c.uid, c);
    expect(store.conversations().map((c) => c.title)).toEqual(["alice \"Al\"", "bob", "C"]);
    expect(store.nameOf("aaaaaaaa11")).toBe("alice");
    expect(claimNote(al)).toBe(' (calls themself "Al")');
    expect(claimNote(same)).toBe("");
    expect(claimNote(create(ContactSchema, { uid: "d", name: "dan", claimedName: "{bold}x" }))).toBe(' (calls themself "{open}bold{close}x")');
  });
});
