import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { TestNode } from "./helpers/cli.js";
import { callWithoutToken } from "./security/ipc-attacks.js";

async function codeOf(call: Promise<unknown>): Promise<{ code: Code | undefined; message: string }> {
  try {
    await call;
    return { code: undefined, message: "" };
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, message: e.rawMessage };
  }
}

/** Local IPC (design §6): TCP needs the bearer token; nothing but lifecycle works before unlock. */
describe("IPC over loopback TCP", () => {
  const node = new TestNode("tcp");
  let session: ReturnType<typeof parseIpcAddress>;
  let token = "";

  beforeAll(async () => {
    await node.init(["--ipc", "tcp://127.0.0.1:0"]);
    const ipc = JSON.parse(readFileSync(join(node.home, "run", "ipc.json"), "utf8")) as { session: string };
    session = parseIpcAddress(ipc.session);
    token = readFileSync(join(node.home, "run", "token"), "utf8").trim();
  });
  afterAll(() => node.destroy());

  it("works for the CLI, which reads the token from the profile", async () => {
    expect((await node.json<{ locked: boolean; ipc: { kind: string } }>(["status"])).ipc.kind).toBe("tcp");
  });

  it("answers UNAUTHENTICATED without the token, or with a wrong one, and streams no events", () => callWithoutToken(node));

  it("answers FAILED_PRECONDITION before unlock, except for status and lifecycle calls", async () => {
    const client = createClient(SessionService, createIpcTransport(session, { token }));
    await client.lock({});
    const locked = await Promise.all([
      codeOf(client.listContacts({})),
      codeOf(client.sendMessage({ conversation: "bob", text: "hi" })),
      codeOf(client.getIdentity({})),
      codeOf((async () => { for await (const _ of client.subscribe({})) break; })()),
    ]);
    for (const result of locked) {
      expect(result.code).toBe(Code.FailedPrecondition);
      expect(result.message).toMatch(/locked: unlock it first/);
    }
    expect((await client.getStatus({})).locked).toBe(true);
    expect((await codeOf(client.unlock({ password: "wrong password" }))).code).toBe(Code.PermissionDenied);
    await node.ok(["unlock"]);
    expect((await client.getStatus({})).locked).toBe(false);
  });
});

describe("malformed arguments", () => {
  const node = new TestNode("bad");
  beforeAll(() => node.init());
  afterAll(() => node.destroy());

  it("every RPC answers INVALID_ARGUMENT with a useful message and the service keeps running", async () => {
    const client = createClient(SessionService, createIpcTransport({ kind: "unix", path: join(node.home, "run", "session.sock") }));
    const cases: [string, Promise<unknown>][] = [
      ["createIdentity", client.createIdentity({ name: "", password: "" })],
      ["unlock", client.unlock({ password: "" })],
      ["changePassword", client.changePassword({ oldPassword: "", newPassword: "x" })],
      ["deleteIdentity", client.deleteIdentity({ password: "" })],
      ["exportAccount", client.exportAccount({ password: "" })],
      ["importAccount", client.importAccount({ archive: new Uint8Array(), password: "x" })],
      ["addContact(empty)", client.addContact({})],
      ["addContact(garbage)", client.addContact({ source: { case: "linkCode", value: "jarvis://%%%" } })],
      ["addContact(bad card)", client.addContact({ source: { case: "card", value: { version: 1, uid: "00", name: "x", publicKey: new Uint8Array(32) } } })],
      ["getContact", client.getContact({ contact: " " })],
      ["updateContact", client.updateContact({ contact: "" })],
      ["removeContact", client.removeContact({ contact: "" })],
      ["getSafetyNumber", client.getSafetyNumber({ contact: "" })],
      ["sendMessage", client.sendMessage({ conversation: "", text: "hi" })],
      ["listMessages", client.listMessages({ conversation: "", limit: 10 })],
      ["listMessages(limit)", client.listMessages({ conversation: "x", limit: 100_000 })],
      ["markRead", client.markRead({ conversation: "" })],
      ["createGroup", client.createGroup({ name: "", members: [] })],
      ["getGroup", client.getGroup({ group: "" })],
      ["addGroupMembers", client.addGroupMembers({ group: "g", members: [] })],
      ["leaveGroup", client.leaveGroup({ group: "" })],
      ["deleteGroup", client.deleteGroup({ group: "" })],
      ["connectPeer", client.connectPeer({ contact: "" })],
    ];
    for (const [name, call] of cases) {
      const result = await codeOf(call);
      expect(result.code, `${name}: ${result.message}`).toBe(Code.InvalidArgument);
      expect(result.message.length, name).toBeGreaterThan(5);
    }
    expect((await client.getStatus({})).locked).toBe(false);
  });
});
