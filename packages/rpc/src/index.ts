// The public surface of @jarvis/rpc: what the services' composition roots and the clients
// use. The token check, health, reflection and the error table are wired inside startServer.
export { parseIpcAddress, formatIpcAddress, type IpcAddress } from "./address.js";
export { errorCodeOf, statusOf, toConnectError } from "./errors.js";
export { errorMappingInterceptor, type RpcLogger } from "./interceptors.js";
export { registerHealth, type Readiness, type HealthOptions } from "./health.js";
export { registerReflection } from "./reflection.js";
export type { MessageCodec } from "./message-codecs.js";
export { startServer, type ServerOptions, type RunningServer } from "./server.js";
export { createIpcTransport } from "./client.js";
export { createServiceLogger } from "./service-logger.js";
export { onShutdownSignal, readIpcToken } from "./service-runtime.js";
export { IPC_NONCE_BYTES, IPC_PROOF_LABEL, UnprovenServerError, ipcProof, isValidIpcProof, newIpcNonce, requireIpcProof } from "./ipc-proof.js";
export { SUPERVISOR_PIPE_ENV, SUPERVISOR_PIPE_FD, SupervisorPipe, PipeDecoder, encodePipeMessage, exitWhenSupervisorGone, openSupervisorPipe, type PipeMessage } from "./supervisor-pipe.js";
