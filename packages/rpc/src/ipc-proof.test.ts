import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "@jarvis/core";
import { IPC_NONCE_BYTES, UnprovenServerError, ipcProof, isValidIpcProof, newIpcNonce, requireIpcProof } from "./ipc-proof.js";

const TOKEN = "the-profile-token";

describe("IPC proof of the token", () => {
  it("is HMAC-SHA256 over label, client nonce and server nonce, and checks only with all three", () => {
    const [client, server] = [newIpcNonce(), newIpcNonce()];
    expect(client.length).toBe(IPC_NONCE_BYTES);
    expect(client.equals(server)).toBe(false);
    const proof = ipcProof(TOKEN, client, server);
    expect(isValidIpcProof(TOKEN, client, server, proof)).toBe(true);
    expect(isValidIpcProof("another-token", client, server, proof)).toBe(false);
    expect(isValidIpcProof(TOKEN, server, client, proof)).toBe(false);
    expect(isValidIpcProof(TOKEN, newIpcNonce(), server, proof)).toBe(false);
    expect(isValidIpcProof(TOKEN, client, server, proof.subarray(0, 31))).toBe(false);
    expect(isValidIpcProof(TOKEN, client, server.subarray(0, 16), proof)).toBe(false);
    const flipped = Buffer.from(proof);
    flipped[0]! ^= 1;
    expect(isValidIpcProof(TOKEN, client, server, flipped)).toBe(false);
  });

  it("a server refuses to prove over a nonce of the wrong size", () => {
    expect(() => ipcProof(TOKEN, Buffer.alloc(8), newIpcNonce())).toThrow(InvalidArgumentError);
  });

  it("requireIpcProof resolves for an honest server and refuses a guess or a refusal", async () => {
    await expect(requireIpcProof(TOKEN, async (c) => { const s = newIpcNonce(); return { serverNonce: s, proof: ipcProof(TOKEN, c, s) }; })).resolves.toBeUndefined();
    await expect(requireIpcProof(TOKEN, async () => ({ serverNonce: newIpcNonce(), proof: newIpcNonce() }))).rejects.toBeInstanceOf(UnprovenServerError);
    // Echoing our own nonce back as its own does not help a server that lacks the token.
    await expect(requireIpcProof(TOKEN, async (c) => ({ serverNonce: c, proof: c }))).rejects.toBeInstanceOf(UnprovenServerError);
    await expect(requireIpcProof(TOKEN, () => Promise.reject(new ConnectError("no such method", Code.Unimplemented)))).rejects.toBeInstanceOf(UnprovenServerError);
  });

  it("a server that is not up yet stays UNAVAILABLE (start-up, retried), not unproven", async () => {
    const down = new ConnectError("connect ECONNREFUSED", Code.Unavailable);
    await expect(requireIpcProof(TOKEN, () => Promise.reject(down))).rejects.toBe(down);
    const error = await requireIpcProof(TOKEN, async () => ({ serverNonce: newIpcNonce(), proof: newIpcNonce() })).catch((e: unknown) => e);
    expect([(error as UnprovenServerError).kind, (error as UnprovenServerError).code]).toEqual(["unauthenticated", "ipc-server-unproven"]);
  });
});
