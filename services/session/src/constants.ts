/**
 * Every default and limit of the session service in one place: timeouts, caps, page sizes.
 * Protocol constants that both ends must agree on stay with the protocol code (envelopes.ts,
 * card-codec.ts); these are the values a node chooses for itself.
 */

/** Unanswered bytes we let the network hold for one peer (it buffers ~4 MiB per peer). */
export const DEFAULT_WINDOW_BYTES = 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 8;

export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

export const MAX_PASSWORD_LENGTH = 1024;

export const MAX_PAGE = 1000;

export const DEFAULT_PAGE = 50;

/** How long presence must hold still before a change is stored (a flapping peer stores nothing). */
export const PRESENCE_SETTLE_MS = 1_000;

/** A session asks the network to dial any one address at most once per this window. */
export const DIAL_INTERVAL_PER_ADDRESS_MS = 60_000;

/** Bytes of received frames we hold before telling the Link reader to wait. */
export const MAX_INBOUND_PENDING_BYTES = 4 * 1024 * 1024;

export const REPLAY_PAGE = 500;

export const MAX_SUBSCRIBER_BACKLOG = 10_000;

/**
 * The event log keeps this many of its newest events; older ones are compacted away (a client
 * whose cursor is older reloads its state). Message events are a few dozen bytes each, so the
 * log stays a small, bounded part of the store.
 */
export const EVENT_LOG_RETAIN = 100_000;

/** Compaction runs once this many events beyond EVENT_LOG_RETAIN have piled up (one DELETE). */
export const EVENT_LOG_COMPACT_EVERY = 1_000;

export const MAX_CARD_BYTES = 4096;

export const MAX_NAME_LENGTH = 64;

export const MAX_ADDRESSES = 8;

export const MAX_ALIAS_LENGTH = 64;

export const MIN_PREFIX = 4;

export const MAX_IDS_PER_ACK = 1000;

/** Bytes of new entries kept in memory for one peer before we fall back to reading the outbox. */
export const MAX_QUEUED_BYTES_PER_PEER = 1024 * 1024;

/** Entries read from the outbox at a time when catching up (each at most ~64 KiB). */
export const RESEND_PAGE = 32;

/** Delivery limits (design §5, anchor §4.14). */
export const OUTBOX_LIMITS = {
  perRecipient: 1000,
  /**
   * Undelivered messages to a connected contact beyond which a send is refused as `busy` (overload).
   * Two group commits' worth (a commit takes up to 256 writes): at 256 a stream above capacity
   * had one batch in flight at a time — stored, sent, stored by the peer, acked, and only then
   * the next (131 waits for room, ~45 ms each, per 22,000 messages; 14 at 512). A stream's
   * sends started in one turn are counted when they commit, so its backlog reaches at most this
   * plus SEND_STREAM_WINDOW (768), under perRecipient: a stream is slowed, never refused.
   */
  busyBacklog: 512,
  /** A contact counts as live for `busy` if it acked within this long; one that stopped acking queues like an offline one. */
  busyAckWindowMs: 2_000,
  /** The retry hint of a `busy` refusal. */
  busyRetryMs: 50,
  expiryMs: 7 * 24 * 60 * 60 * 1000,
  retry: { baseMs: 10_000, factor: 2, capMs: 5 * 60_000 },
  expirySweepMs: 60 * 60 * 1000,
};

export const MAX_TEXT_BYTES = 64 * 1024;

export const MAX_IDS_PER_RECEIPT = 1000;

/** Unanswered requests one SendMessages stream may hold; more are read only as these are answered. */
export const SEND_STREAM_WINDOW = 256;


/**
 * Messages MarkRead marks per transaction before yielding to the event loop, and so the most ids
 * one of its receipts carries. 2,000 gave 72–310 ms turns on a loaded 2-core box; 500 keeps a
 * turn (this chunk, or the sender applying its receipt) a quarter of that. Re-measured after
 * the set-based count (load 4–6): 1,000 saved ~10% CPU but its longest turn reached 96–128 ms;
 * 250 cost ~15% more CPU than 500.
 */
export const MARK_READ_CHUNK = 500;

/** Bytes of received frames handled in one transaction; more wait for the next turn (bounds a turn's work). */
export const MAX_INBOUND_BATCH_BYTES = 256 * 1024;

/** Peer clocks may be off, but not by more than this into the future. */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

/** A revision may move at most this far in one update, so nobody can spend the counter. */
export const MAX_REVISION_STEP = 1000;

/** Limits and name rules of groups, the same for groups we create and groups we are told about. */
export const MAX_GROUP_MEMBERS = 64;

export const MAX_GROUP_NAME = 64;
