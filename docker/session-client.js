// A session client over the node's shared socket volume, for the one-shot container scripts.
// Outside the supervisor there is no ipc.json or pid file: the address comes from the same
// JARVIS_* variables the session service itself reads.
import { createClient } from "@connectrpc/connect";
import { foregroundClock, profilePaths, retry } from "@jarvis/core";
import { createIpcTransport, parseIpcAddress } from "@jarvis/rpc";
import { SessionService } from "@jarvis/proto/jarvis/session/v1/session_service";
import { Health } from "@jarvis/proto/grpc/health/v1/health";

/** The session's IPC address for a profile: $JARVIS_SESSION_IPC or <home>/run/session.sock. */
export function sessionAddress(home, env = process.env) {
  return parseIpcAddress(env.JARVIS_SESSION_IPC || `unix:${profilePaths(home).sessionSocket}`);
}

/** The network's IPC address for a profile: $JARVIS_NETWORK_IPC or <home>/run/network.sock. */
export function networkAddress(home, env = process.env) {
  return parseIpcAddress(env.JARVIS_NETWORK_IPC || `unix:${profilePaths(home).networkSocket}`);
}

export function sessionClient(home, env = process.env) {
  return createClient(SessionService, createIpcTransport(sessionAddress(home, env)));
}

export function healthClient(address) {
  return createClient(Health, createIpcTransport(address));
}

/**
 * Calls fn until it answers: containers start in any order, so a socket that is not there yet
 * is normal for a while. Gives up after maxAttempts (about a minute with the default policy).
 */
export function untilAnswered(fn, { maxAttempts = 40, onRetry } = {}) {
  return retry(fn, { policy: { baseMs: 100, factor: 1.5, capMs: 2_000 }, clock: foregroundClock, maxAttempts, onRetry });
}
