import { afterEach, describe, expect, it, vi } from "vitest";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { MessageState, Presence } from "@jarvis/proto/jarvis/session/v1/resources";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { errorCodeOf, errorMappingInterceptor } from "@jarvis/rpc";
import { silentLogger } from "@jarvis/core";
import { createSessionRoutes } from "./routes.js";
import { TestNodes, TEST_PASSWORD } from "./src/testing/test-nodes.js";
import { createTestProfile } from "./src/testing/test-profile.js";
import { decodeLinkCode, encodeLinkCode } from "./src/contacts/card-codec.js";
import type { SessionApp } from "./src/app/session-app.js";

// The session service as clients see it: real routes, real app and store, connect's in-memory
// transport with the same error interceptor the server uses.
let nodes = new TestNodes();
afterEach(async () => {
  await nodes.cleanup();
  nodes = new TestNodes();
});

function clientFor(app: SessionApp, onShutdown = () => {}) {
  const transport = createRouterTransport(createSessionRoutes(app, silentLogger, onShutdown), { router: { interceptors: [errorMappingInterceptor()] } });
  return createClient(SessionService, transport);
}

async function rejection(call: Promise<unknown>): Promise<ConnectError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(error)}`);
  return error;
}

describe("session routes over connect's in-memory transport", () => {
  it("walks the lifecycle: status, unlock, lock, with errors mapped to codes", async () => {
    const { app, home } = nodes.node();
    const client = clientFor(app);
    expect(await client.getStatus({})).toMatchObject({ identityExists: false, locked: true, uid: "" });
    const noIdentity = await rejection(client.listContacts({}));
    expect(noIdentity.code).toBe(Code.FailedPrecondition);

    const { uid } = await createTestProfile(home, { name: "alice", password: TEST_PASSWORD });
    expect(await client.getStatus({})).toMatchObject({ identityExists: true, locked: true, weakKdf: true });
    expect((await rejection(client.unlock({ password: "" }))).code).toBe(Code.InvalidArgument);
    const wrong = await rejection(client.unlock({ password: "not the password" }));
    expect(wrong.code).toBe(Code.PermissionDenied);
    expect(errorCodeOf(wrong)).toBe("wrong-password");

    const unlocked = await client.unlock({ password: TEST_PASSWORD });
    expect(unlocked.identity?.uid).toBe(uid);
    expect(unlocked.identity?.linkCode).toMatch(/^jarvis:\/\//);
    expect(await client.getStatus({})).toMatchObject({ locked: false, uid, name: "alice" });

    await client.lock({});
    expect((await client.getStatus({})).locked).toBe(true);
    expect((await rejection(client.getIdentity({}))).code).toBe(Code.FailedPrecondition);
  });

  it("adds a contact, sends and lists messages, and maps bad input to codes", async () => {
    const alice = await nodes.person("alice");
    const bob = await nodes.person("bob");
    const client = clientFor(alice.app);
    const { contact } = await client.addContact({ source: { case: "linkCode", value: encodeLinkCode(bob.app.identity().card) }, alias: "" });
    expect(contact).toMatchObject({ name: "bob", uid: bob.app.identity().identity.uid });
    expect([Presence.RED, Presence.GREEN, Presence.GREY]).toContain(contact?.presence);

    const { message } = await client.sendMessage({ conversation: "bob", text: "over the router" });
    expect(message).toMatchObject({ text: "over the router", outgoing: true, state: MessageState.QUEUED });
    const page = await client.listMessages({ conversation: "bob", limit: 10 });
    expect(page.messages.map((m) => m.text)).toEqual(["over the router"]);

    const unknown = await rejection(client.sendMessage({ conversation: "nobody", text: "hi" }));
    expect(unknown.code).toBe(Code.NotFound);
    expect(errorCodeOf(unknown)).toBe("unknown-contact");
    expect((await rejection(client.sendMessage({ conversation: "bob", text: "   " }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(client.sendMessage({ conversation: "", text: "hi" }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(client.listMessages({ conversation: "bob", limit: 1001 }))).code).toBe(Code.InvalidArgument);
    expect((await rejection(client.addContact({ alias: "" }))).code).toBe(Code.InvalidArgument);
    const duplicate = await rejection(client.addContact({ source: { case: "linkCode", value: encodeLinkCode(bob.app.identity().card) }, alias: "" }));
    expect(duplicate.code).toBe(Code.AlreadyExists);
  });

  it("lists peers with the session's own health message", async () => {
    const alice = await nodes.person("alice");
    const bob = await nodes.person("bob");
    const client = clientFor(alice.app);
    await client.addContact({ source: { case: "linkCode", value: encodeLinkCode(bob.app.identity().card) }, alias: "b" });
    bob.app.addContact({ linkCode: encodeLinkCode(alice.app.identity().card) }, "");
    await vi.waitFor(() => expect(alice.network.connected.size).toBe(1), { timeout: 5_000, interval: 5 });
    const { peers } = await client.listPeers({});
    expect(peers.map((p) => p.name)).toEqual(["b"]);
    expect(peers[0]?.stats?.$typeName).toBe("jarvis.session.v1.PeerHealth");
    expect(peers[0]?.stats?.messagesSent).toBe(BigInt(alice.network.sent.length));
    expect(peers[0]?.stats?.connectedSinceTime).toBeDefined();
    expect(peers[0]?.stats?.lastErrorTime).toBeUndefined();
  });

  it("streams sends: one answer per request, in order, with per-message typed errors", async () => {
    const alice = await nodes.person("alice");
    const bob = await nodes.person("bob");
    const client = clientFor(alice.app);
    await client.addContact({ source: { case: "linkCode", value: encodeLinkCode(bob.app.identity().card) }, alias: "" });
    const COUNT = 700; // more than the stream's window, so the server must read as it answers
    const text = (i: number) => (i === 100 ? "   " : `m${i}`);
    const conversation = (i: number) => (i === 200 ? "nobody" : "bob");
    async function* requests() {
      for (let i = 0; i < COUNT; i++) yield { correlationId: `c${i}`, conversation: conversation(i), text: text(i) };
    }
    const answers = [];
    for await (const answer of client.sendMessages(requests())) answers.push(answer);
    expect(answers.map((a) => a.correlationId)).toEqual(Array.from({ length: COUNT }, (_, i) => `c${i}`));
    const failed = answers.filter((a) => a.result.case === "error").map((a) => [a.correlationId, a.result.value]);
    expect(failed).toEqual([
      ["c100", expect.objectContaining({ grpcCode: Code.InvalidArgument, errorCode: "empty-text" })],
      ["c200", expect.objectContaining({ grpcCode: Code.NotFound, errorCode: "unknown-contact" })],
    ]);
    const stored = answers.flatMap((a) => (a.result.case === "message" ? [a.result.value] : []));
    expect(stored.every((m) => m.state === MessageState.QUEUED && m.outgoing)).toBe(true);
    const page = await client.listMessages({ conversation: "bob", limit: 1000 });
    expect(page.messages.map((m) => m.text)).toEqual(stored.map((m) => m.text));
    expect(page.messages).toHaveLength(COUNT - 2);
  });

  it("answers a locked session's stream with errors, not by failing the call", async () => {
    const { app } = nodes.node();
    const client = clientFor(app);
    async function* one() {
      yield { correlationId: "x", conversation: "bob", text: "hi" };
    }
    const answers = [];
    for await (const answer of client.sendMessages(one())) answers.push(answer);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.result).toMatchObject({ case: "error", value: { grpcCode: Code.FailedPrecondition } });
  });

  it("answers a repeated idempotency key with the first message, and maps a bad key to INVALID_ARGUMENT", async () => {
    const alice = await nodes.person("alice");
    const bob = await nodes.person("bob");
    const client = clientFor(alice.app);
    await client.addContact({ source: { case: "linkCode", value: encodeLinkCode(bob.app.identity().card) }, alias: "" });
    const first = await client.sendMessage({ conversation: "bob", text: "exactly once", idempotencyKey: "tui-1" });
    const again = await client.sendMessage({ conversation: "bob", text: "exactly once", idempotencyKey: "tui-1" });
    expect(again.message?.id).toBe(first.message?.id);
    expect((await client.listMessages({ conversation: "bob" })).messages).toHaveLength(1);
    const bad = await rejection(client.sendMessage({ conversation: "bob", text: "x", idempotencyKey: "with space" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(errorCodeOf(bad)).toBe("bad-idempotency-key");
  });

  it("sets the advertised address on the card and link code, keeps it across a lock, and clears it", async () => {
    const alice = await nodes.person("alice");
    const client = clientFor(alice.app);
    const set = await client.setAdvertisedAddress({ address: " 203.0.113.5:7000 " });
    expect(set.identity?.card?.addresses).toEqual(["203.0.113.5:7000"]);
    expect(decodeLinkCode(set.identity!.linkCode).addresses).toEqual(["203.0.113.5:7000"]);
    await client.lock({});
    await client.unlock({ password: TEST_PASSWORD });
    expect((await client.getIdentity({})).identity?.card?.addresses).toEqual(["203.0.113.5:7000"]);
    const bad = await rejection(client.setAdvertisedAddress({ address: "no port here" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    const cleared = await client.setAdvertisedAddress({ address: "" });
    expect(cleared.identity?.card?.addresses).not.toContain("203.0.113.5:7000");
  });
});
