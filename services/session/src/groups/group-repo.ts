import type { Db } from "../store/database.js";
import type { SequenceCounters } from "../store/sequence-counters.js";
import type { Group } from "../model.js";

interface GroupRow {
  id: string;
  name: string;
  creator_uid: string;
  revision: number;
  created_at: number;
}

export class GroupRepo {
  #db: Db;
  #byId;
  #all;
  #members;
  #upsert;
  #clearMembers;
  #addMember;
  #delete;
  #storedSequence;
  #sequences: SequenceCounters;
  #version = 0;

  constructor(db: Db, sequences: SequenceCounters) {
    this.#db = db;
    this.#sequences = sequences;
    this.#byId = db.prepare<[string], GroupRow>("SELECT * FROM groups WHERE id = ?");
    this.#all = db.prepare<[], GroupRow>("SELECT * FROM groups ORDER BY created_at, id");
    this.#members = db.prepare<[string], { uid: string; admin: number }>("SELECT uid, admin FROM group_members WHERE group_id = ? ORDER BY uid");
    this.#upsert = db.prepare(
      `INSERT INTO groups (id, name, creator_uid, revision, created_at) VALUES (@id, @name, @creatorUid, @revision, @createdAt)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, revision = excluded.revision`,
    );
    this.#clearMembers = db.prepare("DELETE FROM group_members WHERE group_id = ?");
    this.#addMember = db.prepare("INSERT OR IGNORE INTO group_members (group_id, uid, admin) VALUES (?, ?, ?)");
    this.#delete = db.prepare("DELETE FROM groups WHERE id = ?");
    this.#storedSequence = db.prepare<[string], { next_sequence: number }>("SELECT next_sequence FROM groups WHERE id = ?");
  }

  get(id: string): Group | undefined {
    const row = this.#byId.get(id);
    return row && this.#toGroup(row);
  }

  list(): Group[] {
    return this.#all.all().map((row) => this.#toGroup(row));
  }

  /**
   * Changes whenever a group is written or deleted: caches derived from groups compare it to
   * know they are stale. (They never fill inside a transaction, so a rolled-back write only
   * costs them a refill.)
   */
  get version(): number {
    return this.#version;
  }

  /** Writes the group and replaces its member list. */
  save(group: Group): void {
    this.#version++;
    this.#db.transaction(() => {
      this.#upsert.run(group);
      this.#clearMembers.run(group.id);
      for (const uid of group.memberUids) this.#addMember.run(group.id, uid, group.adminUids.includes(uid) ? 1 : 0);
    })();
  }

  delete(id: string): void {
    this.#version++;
    this.#delete.run(id);
    this.#sequences.forgetConversation(id);
  }

  /** The next sequence number of our messages to this group (writes nothing: SequenceCounters). */
  takeSequence(id: string): number {
    return this.#sequences.take(id, () => this.#storedSequence.get(id)?.next_sequence ?? 1);
  }

  #toGroup(row: GroupRow): Group {
    const members = this.#members.all(row.id);
    return {
      id: row.id,
      name: row.name,
      creatorUid: row.creator_uid,
      revision: row.revision,
      createdAt: row.created_at,
      memberUids: members.map((m) => m.uid),
      adminUids: members.filter((m) => m.admin === 1).map((m) => m.uid),
    };
  }
}
