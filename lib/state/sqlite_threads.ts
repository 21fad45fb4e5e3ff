/**
 * {@link ThreadStore} in `state.db`: one row per (room, user), the thread as
 * JSON.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { ThreadOptions } from "../conversation.ts";
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
  return {
    read: (room, user) => (get.get(room, user) as { messages: string } | undefined)?.messages,
    write: (room, user, messages, updatedAt) => void put.run(room, user, messages, updatedAt),
    users: (room) => (users.all(room) as Array<{ user: string }>).map((r) => r.user),
    clear: () => db.exec("DELETE FROM threads"),
  };
}
