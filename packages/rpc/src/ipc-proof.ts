import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { InvalidArgumentError, JarvisError } from "@jarvis/core";

/**
 * Proof that a local server knows the node's IPC token, without the caller revealing it
 * (design §6). In TCP mode any local process could have bound the port first; the session
 * therefore sends a fresh nonce, the server answers HMAC(token, label ‖ client nonce ‖ server
 * nonce), and only a server whose proof checks out gets the token and the static key.
 * The label keeps this proof from being replayed as any other use of the token; the server's
 * own nonce keeps the server from being used as an oracle for a proof the caller chose.
 */
export const IPC_PROOF_LABEL = "jarvis-network-ipc-v1";
export const IPC_NONCE_BYTES = 32;

export function newIpcNonce(): Buffer {
  return randomBytes(IPC_NONCE_BYTES);
}

export function ipcProof(token: string, clientNonce: Uint8Array, serverNonce: Uint8Array): Buffer {
  checkNonce(clientNonce, "client");
  checkNonce(serverNonce, "server");
  return createHmac("sha256", token).update(IPC_PROOF_LABEL).update(clientNonce).update(serverNonce).digest();
}

/** Constant-time check of a server's answer; any malformed answer is simply not a proof. */
export function isValidIpcProof(token: string, clientNonce: Uint8Array, serverNonce: Uint8Array, proof: Uint8Array): boolean {
  if (serverNonce.length !== IPC_NONCE_BYTES || clientNonce.length !== IPC_NONCE_BYTES) return false;
  const expected = ipcProof(token, clientNonce, serverNonce);
  return proof.length === expected.length && timingSafeEqual(expected, proof);
}

/** The server at an IPC address could not prove it is ours: nothing secret was sent to it. */
export class UnprovenServerError extends JarvisError {
  constructor(message: string) {
    super("unauthenticated", "ipc-server-unproven", message);
  }
}

/**
 * The caller's side: sends a fresh nonce through `ask` (the server's Authenticate) and resolves
 * only if the answer proves the token. A server that is not listening yet keeps its
 * UNAVAILABLE (ordinary start-up); any other refusal or a wrong proof is an UnprovenServerError.
 */
export async function requireIpcProof(
  token: string,
  ask: (clientNonce: Buffer) => Promise<{ serverNonce: Uint8Array; proof: Uint8Array }>,
): Promise<void> {
  const clientNonce = newIpcNonce();
  let answer;
  try {
    answer = await ask(clientNonce);
  } catch (error) {
    if (error instanceof ConnectError && (error.code === Code.Unavailable || error.code === Code.Canceled)) throw error;
    throw new UnprovenServerError(`the server on the IPC address did not answer the proof (${String(error)}); nothing secret was sent to it`);
  }
  if (!isValidIpcProof(token, clientNonce, answer.serverNonce, answer.proof)) {
    throw new UnprovenServerError("the process on the network IPC address could not prove it knows this node's token; nothing secret was sent to it");
  }
}

function checkNonce(nonce: Uint8Array, whose: string): void {
  if (nonce.length !== IPC_NONCE_BYTES) throw new InvalidArgumentError(`${whose} nonce must be ${IPC_NONCE_BYTES} bytes, got ${nonce.length}`);
}
