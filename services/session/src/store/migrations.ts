/**
 * Schema migrations, applied in order inside one transaction each; PRAGMA user_version
 * records how far a database has come. Never edit a shipped migration: add a new one.
 */
export const MIGRATIONS: string[] = [
  // 1: the first schema
  `
  CREATE TABLE identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    private_key BLOB NOT NULL,
    public_key BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE contacts (
    uid TEXT PRIMARY KEY,
    public_key BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    alias TEXT NOT NULL DEFAULT '',
    verified INTEGER NOT NULL DEFAULT 0,
    addresses TEXT NOT NULL DEFAULT '[]',
    added_at INTEGER NOT NULL,
    next_sequence INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    creator_uid TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    next_sequence INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    uid TEXT NOT NULL,
    PRIMARY KEY (group_id, uid)
  );
  CREATE TABLE messages (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    sender_uid TEXT NOT NULL,
    outgoing INTEGER NOT NULL,
    text TEXT NOT NULL,
    state INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX messages_by_conversation ON messages (conversation_id, position);
  CREATE INDEX messages_unread ON messages (conversation_id) WHERE outgoing = 0 AND read = 0;
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_uid TEXT NOT NULL,
    ack_id TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    payload BLOB NOT NULL,
    needs_ack INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    UNIQUE (recipient_uid, ack_id)
  );
  CREATE INDEX outbox_by_recipient ON outbox (recipient_uid, seq);
  CREATE TABLE events (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    payload BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `,
  // 2: read receipts can be turned off per contact
  `
  ALTER TABLE contacts ADD COLUMN send_receipts INTEGER NOT NULL DEFAULT 1;
  `,
  // 3: the outbox capacity check counts from an index instead of the rows
  `
  CREATE INDEX outbox_pending ON outbox (recipient_uid, needs_ack);
  `,
  // 4: trust above the channel (issue 15). A message is identified by (sender, id), so one
  // sender cannot pre-empt another's id; names a peer announces are kept apart as claims;
  // members learned through a group are group contacts; groups have admins.
  `
  CREATE TABLE messages_v4 (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sender_uid TEXT NOT NULL,
    outgoing INTEGER NOT NULL,
    text TEXT NOT NULL,
    state INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sender_uid, id)
  );
  INSERT INTO messages_v4 SELECT position, id, conversation_id, sender_uid, outgoing, text, state, sequence, sent_at, received_at, read FROM messages;
  DROP TABLE messages;
  ALTER TABLE messages_v4 RENAME TO messages;
  CREATE INDEX messages_by_conversation ON messages (conversation_id, position);
  CREATE INDEX messages_unread ON messages (conversation_id) WHERE outgoing = 0 AND read = 0;
  ALTER TABLE contacts ADD COLUMN claimed_name TEXT NOT NULL DEFAULT '';
  ALTER TABLE contacts ADD COLUMN group_only INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE group_members ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
  UPDATE group_members SET admin = 1 WHERE uid = (SELECT creator_uid FROM groups WHERE groups.id = group_members.group_id);
  `,
  // 5: unread counts kept incrementally (issue 18): a per-conversation counter maintained by
  // triggers in the same transaction as every insert, read flag change and delete, so the
  // count never drifts and nothing recounts the unread rows on each inbound batch.
  `
  CREATE TABLE unread_counts (conversation_id TEXT PRIMARY KEY, unread INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO unread_counts SELECT conversation_id, count(*) FROM messages WHERE outgoing = 0 AND read = 0 GROUP BY conversation_id;
  CREATE TRIGGER unread_on_insert AFTER INSERT ON messages WHEN NEW.outgoing = 0 AND NEW.read = 0 BEGIN
    INSERT INTO unread_counts (conversation_id, unread) VALUES (NEW.conversation_id, 1)
      ON CONFLICT (conversation_id) DO UPDATE SET unread = unread + 1;
  END;
  CREATE TRIGGER unread_on_read AFTER UPDATE OF read ON messages WHEN OLD.outgoing = 0 AND OLD.read = 0 AND NEW.read <> 0 BEGIN
    UPDATE unread_counts SET unread = unread - 1 WHERE conversation_id = OLD.conversation_id;
  END;
  CREATE TRIGGER unread_on_delete AFTER DELETE ON messages WHEN OLD.outgoing = 0 AND OLD.read = 0 BEGIN
    UPDATE unread_counts SET unread = unread - 1 WHERE conversation_id = OLD.conversation_id;
  END;
  `,
  // 6: idempotent SendMessage (issue 17): the message a client's idempotency key produced,
  // per conversation, so a resend after a lost answer returns it instead of sending twice.
  `
  CREATE TABLE send_keys (
    conversation_id TEXT NOT NULL,
    key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, key)
  ) WITHOUT ROWID;
  `,
  // 7: fewer bytes per message (issue 18). A message event refers to its message row instead
  // of copying it as JSON (replay rebuilds it from the row); the log is compacted to its newest
  // events, and how far is recorded so a cursor from before that is told so. The ack path
  // counts what is still owed for a message from an index instead of scanning the outbox.
  `
  ALTER TABLE events ADD COLUMN message_position INTEGER;
  INSERT OR IGNORE INTO counters (name, value) VALUES ('events_compacted_through', 0);
  CREATE INDEX outbox_owed ON outbox (message_id) WHERE needs_ack = 1;
  `,
  // 8: an outbox with three b-trees instead of five (issue 18): every entry's insert and
  // delete maintains each one. The owed count per recipient is kept in memory now, so
  // outbox_pending goes; a message's entries are acked by its message id (ack_id = message_id),
  // so one unique index on (ack_id, recipient_uid) finds an acked entry and counts what a
  // message is still owed, replacing UNIQUE (recipient_uid, ack_id) and outbox_owed. The table
  // is rebuilt to drop the inline UNIQUE, and AUTOINCREMENT with it (its sqlite_sequence row
  // was written on every insert): the repo hands out growing seqs itself (OutboxRepo.add).
  `
  CREATE TABLE outbox_v8 (
    seq INTEGER PRIMARY KEY,
    recipient_uid TEXT NOT NULL,
    ack_id TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    payload BLOB NOT NULL,
    needs_ack INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO outbox_v8 SELECT seq, recipient_uid, ack_id, message_id, payload, needs_ack, created_at, attempts FROM outbox ORDER BY seq;
  DROP TABLE outbox;
  ALTER TABLE outbox_v8 RENAME TO outbox;
  CREATE UNIQUE INDEX outbox_by_ack ON outbox (ack_id, recipient_uid);
  CREATE INDEX outbox_by_recipient ON outbox (recipient_uid, seq);
  `,
  // 9: MarkRead adjusts unread_counts once per chunk, in the same transaction as its UPDATE
  // (MessageRepo.markRead), instead of a trigger running one UPDATE per row it marks.
  `
  DROP TRIGGER unread_on_read;
  `,
  // 10: no AUTOINCREMENT on messages and events (issue 18): each insert into either rewrote
  // their sqlite_sequence row, one more page in every commit of a message. Positions and
  // cursors are handed out by MessageRepo and EventLog from the newest row; so that one is
  // never handed out twice when the newest rows are deleted (a group's messages, compaction),
  // the highest ever used is kept in counters (a position written only when a conversation is
  // deleted; compaction records its own), starting from what sqlite_sequence recorded. The
  // unread triggers go with the old table and are made again.
  `
  CREATE TABLE messages_v10 (
    position INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sender_uid TEXT NOT NULL,
    outgoing INTEGER NOT NULL,
    text TEXT NOT NULL,
    state INTEGER NOT NULL,
    sequence INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    read INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sender_uid, id)
  );
  INSERT INTO messages_v10 SELECT position, id, conversation_id, sender_uid, outgoing, text, state, sequence, sent_at, received_at, read FROM messages ORDER BY position;
  INSERT OR REPLACE INTO counters (name, value)
    SELECT 'messages_position_floor', coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0);
  DROP TABLE messages;
  ALTER TABLE messages_v10 RENAME TO messages;
  CREATE INDEX messages_by_conversation ON messages (conversation_id, position);
  CREATE INDEX messages_unread ON messages (conversation_id) WHERE outgoing = 0 AND read = 0;
  CREATE TRIGGER unread_on_insert AFTER INSERT ON messages WHEN NEW.outgoing = 0 AND NEW.read = 0 BEGIN
    INSERT INTO unread_counts (conversation_id, unread) VALUES (NEW.conversation_id, 1)
      ON CONFLICT (conversation_id) DO UPDATE SET unread = unread + 1;
  END;
  CREATE TRIGGER unread_on_delete AFTER DELETE ON messages WHEN OLD.outgoing = 0 AND OLD.read = 0 BEGIN
    UPDATE unread_counts SET unread = unread - 1 WHERE conversation_id = OLD.conversation_id;
  END;
  CREATE TABLE events_v10 (
    cursor INTEGER PRIMARY KEY,
    payload BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    message_position INTEGER
  );
  INSERT INTO events_v10 SELECT cursor, payload, created_at, message_position FROM events ORDER BY cursor;
  INSERT OR REPLACE INTO counters (name, value)
    SELECT 'events_cursor_floor', coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0);
  DROP TABLE events;
  ALTER TABLE events_v10 RENAME TO events;
  `,
];
