// The public surface of @jarvis/core: only what other packages use. Everything else in src/
// is internal to the package.
export {
  JarvisError,
  InvalidArgumentError,
  NotFoundError,
  AlreadyExistsError,
  FailedPreconditionError,
  LockedError,
  WrongPasswordError,
  UnauthenticatedError,
  ResourceExhaustedError,
  UnavailableError,
  TimeoutError,
  CorruptStoreError,
  type ErrorKind,
} from "./errors.js";
export { systemClock, foregroundClock, FakeClock, type Clock, type TimerHandle } from "./clock.js";
export { Backoff, backoffCeiling, backoffDelay, retry, sleep, DEFAULT_RECONNECT_BACKOFF, type BackoffPolicy, type RetryOptions } from "./backoff.js";
export {
  uidFromPublicKey,
  fingerprintOf,
  formatFingerprint,
  safetyNumber,
  formatSafetyNumber,
  assertPublicKey,
  newMessageId,
  newGroupId,
  isUid,
  isGroupId,
  isMessageId,
} from "./ids.js";
export { quoteUntrusted, sanitizeForTerminal } from "./sanitize.js";
export { profilePaths, resolveHome, type ProfilePaths } from "./profile.js";
export { ensurePrivateDir, writeFileAtomic } from "./files.js";
export { parseHostPort, formatHostPort, DEFAULT_LISTEN_ADDRESS, type HostPort } from "./address.js";
export { silentLogger, type Logger } from "./logger.js";
export { AsyncQueue } from "./async-queue.js";
export { WireWriter, bigVarintSize, hasUnknownFields, lengthFieldSize, varintSize } from "./wire-writer.js";
export { WireReader, decline, readWire } from "./wire-reader.js";
