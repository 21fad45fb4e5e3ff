/**
 * {@link ThreadStore} in `state.db`: one row per (room, user) in `threads`,
 * one per (room, thread root) in `room_threads` (a key made by
 * `threadKey`), the thread as JSON.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { type ThreadOptions, threadRootOf } from "../conversation.ts";
import type { ThreadStore } from "./ports.ts";
import { RowThreadStore, type ThreadRows } from "./threads.ts";

/** Threads per (room, user) in `state.db`. */
export class SqliteThreadStore extends RowThreadStore implements ThreadStore {
  /** Keeps threads in `db` (a migrated `state.db`). */
  constructor(db: DatabaseSync, options: ThreadOptions) {
    super(sqliteRows(db), options);
  }
}

function sqliteRows(db: DatabaseSync): ThreadRows {
  const get = db.prepare("SELECT messages FROM threads WHERE room = ? AND user = ?");
  const put = db.prepare(
    `INSERT INTO threads (room, user, messages, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (room, user) DO UPDATE SET messages = excluded.messages, updated_at = excluded.updated_at`,
  );
  // Users active at the same moment come in id order: what SQLite did before
  // the order was spelled out, and what the memory store does.
  const users = db.prepare(
    "SELECT user FROM threads WHERE room = ? ORDER BY updated_at DESC, user",
  );
  const getShared = db.prepare("SELECT messages FROM room_threads WHERE room = ? AND root = ?");
  const putShared = db.prepare(
    `INSERT INTO room_threads (room, root, messages, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (room, root) DO UPDATE SET messages = excluded.messages, updated_at = excluded.updated_at`,
  );
  const row = (r: unknown) => (r as { messages: string } | undefined)?.messages;
  return {
    read: (room, user) => {
      const root = threadRootOf(user);
      return row(root === undefined ? get.get(room, user) : getShared.get(room, root));
    },
    write: (room, user, messages, updatedAt) => {
      const root = threadRootOf(user);
      if (root === undefined) put.run(room, user, messages, updatedAt);
      else putShared.run(room, root, messages, updatedAt);
    },
    users: (room) => (users.all(room) as Array<{ user: string }>).map((r) => r.user),
    clear: () => db.exec("DELETE FROM threads; DELETE FROM room_threads"),
  };
}
